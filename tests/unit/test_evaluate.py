"""``marksocr evaluate``: the scores are right, and the report has every file a reader expects."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from marksocr.recognition.calibration import expected_calibration_error
from marksocr.recognition.evaluate import (
    PLOTS, class_scores, confusion_matrix, coverage_errors, evaluate_model, roc_curve,
)
from marksocr.recognition.mnist import load_mnist
from marksocr.recognition.robustness import CORRUPTIONS, photo_like

LIMIT = 500
ROBUSTNESS_DIGITS = 150


@pytest.fixture(scope="module")
def report(classifier, mnist_dir, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report")
    metrics = evaluate_model(classifier.path, out, data_dir=mnist_dir, progress=lambda m: None,
                             limit=LIMIT, robustness_digits=ROBUSTNESS_DIGITS, classifier=classifier)
    return out, metrics


# --------------------------------------------------------------------------- scores


def test_class_scores_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 400)
    pred = np.where(rng.random(400) < 0.7, y, rng.integers(0, 10, 400))
    pred[pred == 3] = 4  # a class never predicted: precision 0, as zero_division=0
    p, r, f, s = metrics.precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    scores = class_scores(confusion_matrix(y, pred))
    for k in range(10):
        got = scores["per_class"][str(k)]
        assert got["precision"] == pytest.approx(p[k]) and got["recall"] == pytest.approx(r[k])
        assert got["f1"] == pytest.approx(f[k]) and got["support"] == s[k]
    assert scores["macro"]["f1"] == pytest.approx(metrics.f1_score(y, pred, average="macro", zero_division=0))


def test_roc_auc_matches_scikit_learn_with_ties():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    positive = rng.random(300) < 0.3
    scores = np.round(positive * 0.3 + rng.random(300), 1)  # rounded: many tied scores
    fpr, tpr, auc = roc_curve(scores, positive)
    assert auc == pytest.approx(metrics.roc_auc_score(positive, scores))
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)


def test_coverage_sends_the_least_confident_to_review():
    # 100 digits: the 5 least confident are the only mistakes.
    probs = np.full((100, 10), 0.01)
    labels = np.zeros(100, int)
    conf = np.linspace(0.99, 0.5, 100)
    probs[:, 0] = conf
    probs[95:, 0], probs[95:, 1] = 0.2, conf[95:]
    rows = {r["target_coverage"]: r for r in coverage_errors(probs, labels)}
    assert rows[0.95]["errors"] == 0 and rows[0.95]["sent_to_review"] == 5
    assert rows[0.95]["threshold"] == pytest.approx(conf[94])
    assert rows[0.99]["errors"] == 4 and rows[0.99]["accepted"] == 99
    assert rows[0.98]["error_rate"] == pytest.approx(3 / 98)


def test_corruptions_change_the_crop_the_way_they_say():
    test_digit = np.full((28, 28), 255, np.uint8)
    test_digit[6:22, 12:16] = 0  # a thick dark "1"
    crop = photo_like(test_digit[None])[0]
    ink = lambda img: int((img < 128).sum())  # noqa: E731
    by_name = {c.name: c for c in CORRUPTIONS}
    rng = np.random.default_rng(0)
    assert ink(by_name["thinner strokes"].apply(crop, 5, rng)) < ink(crop)
    assert ink(by_name["thicker strokes"].apply(crop, 9, rng)) > ink(crop)
    speckled = by_name["salt and pepper"].apply(crop, 0.1, rng)
    paper = crop == 255
    assert 0.03 < (speckled[paper] == 0).mean() < 0.07  # half of the 10% hits are pepper
    assert by_name["blur"].apply(crop, 3.0, rng).std() < crop.std()
    assert abs(float(by_name["gaussian noise"].apply(crop, 25.0, rng).astype(float).std() - crop.std())) > 1


# --------------------------------------------------------------------------- the report


def test_metrics_json_has_every_key_and_agrees_with_the_classifier(report, classifier, mnist_dir):
    out, metrics = report
    saved = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "per_class", "macro", "ece", "coverage", "model", "data", "robustness", "roc_auc", "plots"):
        assert key in saved, key
    assert saved["model"]["version"] == classifier.version
    assert saved["model"]["card"].endswith("digits.json")
    assert saved["data"]["digits"] == LIMIT and saved["data"]["limited"]
    test = load_mnist("test", mnist_dir)
    probs = classifier.predict_proba(list(255 - test.images[:LIMIT]))
    assert saved["accuracy"] == pytest.approx(float((probs.argmax(1) == test.labels[:LIMIT]).mean()))
    assert saved["ece"] == pytest.approx(expected_calibration_error(probs, test.labels[:LIMIT]))
    assert saved["accuracy"] > 0.9
    assert sorted(saved["per_class"]) == [str(d) for d in range(10)]
    assert sum(c["support"] for c in saved["per_class"].values()) == LIMIT
    assert all({"precision", "recall", "f1"} <= set(c) for c in saved["per_class"].values())
    assert set(saved["macro"]) == {"precision", "recall", "f1"}
    assert all(0.9 < auc <= 1.0 for auc in saved["roc_auc"].values())


def test_coverage_rows_trade_review_for_fewer_errors(report):
    rows = report[1]["coverage"]
    assert [r["target_coverage"] for r in rows] == [0.99, 0.98, 0.95]
    for r in rows:
        assert r["coverage"] >= r["target_coverage"] and 0 < r["threshold"] <= 1
    assert rows[-1]["error_rate"] <= rows[0]["error_rate"] <= 1 - report[1]["accuracy"] + 1e-12


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_every_plot_is_a_real_png(report, name):
    path = report[0] / PLOTS[name]
    assert path.is_file(), path
    assert path.stat().st_size > 6_000  # an empty figure is a few kB (one misclassified digit drawn: ~9 kB)
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.width >= 400 and img.height >= 150  # one row of misclassified digits is ~200 px
        pixels = np.asarray(img.convert("L"))
    assert pixels.std() > 10  # drawn on, not a blank canvas


def test_robustness_table_has_a_row_per_corruption_and_severity(report):
    out, metrics = report
    rows = metrics["robustness"]["rows"]
    expected = [("none", 0)] + [(c.name, s) for c in CORRUPTIONS for s in (1, 2, 3)]
    assert [(r["corruption"], r["severity"]) for r in rows] == expected
    assert all(r["digits"] == ROBUSTNESS_DIGITS for r in rows)
    with open(out / "robustness.csv", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert [(r["corruption"], int(r["severity"])) for r in csv_rows] == expected
    assert rows[0]["accuracy"] > 0.9
    # Fat marker strokes at the worst level must cost accuracy: the corruption is applied, not a no-op.
    worst = {r["corruption"]: r for r in rows if r["severity"] == 3}
    assert worst["thicker strokes"]["accuracy"] < rows[0]["accuracy"]
    md = (out / "robustness.md").read_text()
    assert md.count("\n| ") == len(expected) + 1  # header + one line per row


def test_report_md_links_every_plot_and_table(report):
    text = (report[0] / "report.md").read_text()
    for file in PLOTS.values():
        assert f"]({file})" in text
    assert "(robustness.csv)" in text and "(metrics.json)" in text
    assert f"{report[1]['accuracy']:.4%}" in text
