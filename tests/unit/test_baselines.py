"""``marksocr evaluate --baselines`` on a tiny split: every model is in the table with sane numbers."""

from __future__ import annotations

import csv

import pytest

from marksocr.recognition.baselines import BaselineSettings, compare_baselines

pytest.importorskip("sklearn")

TRAIN, TEST = 1000, 500


@pytest.mark.slow
def test_baselines_table_on_a_tiny_split(tmp_path, mnist_dir, classifier):
    settings = BaselineSettings(test_size=TEST, rf_trees=30, mlp_epochs=3, seed003_epochs=2,
                                shipped_model=classifier.path)
    results = compare_baselines(tmp_path, data_dir=mnist_dir, train_size=TRAIN, progress=lambda m: None,
                                settings=settings)
    by_name = {r.model.split(" ")[0]: r for r in results}
    assert list(by_name) == ["KNN", "SVM", "Random", "Feed-forward", "seed003", "shipped"]

    # What a small training set gives on MNIST; far below these means the inputs or labels are mixed up.
    assert by_name["KNN"].accuracy > 0.8
    assert by_name["SVM"].accuracy > 0.85
    assert by_name["Random"].accuracy > 0.8
    assert by_name["Feed-forward"].accuracy > 0.7
    assert by_name["seed003"].accuracy > 0.5
    assert by_name["shipped"].accuracy > 0.95
    for r in results:
        assert 0 < r.macro_f1 <= 1 and abs(r.macro_f1 - r.accuracy) < 0.05
        assert r.digits_per_second > 0
    for name in ("KNN", "SVM", "Random", "Feed-forward", "seed003"):
        assert by_name[name].trained_on == f"{TRAIN} digits"
        assert by_name[name].train_seconds is not None
    shipped = by_name["shipped"]
    assert shipped.train_seconds is None and "NOT retrained" in shipped.notes

    with open(tmp_path / "baselines.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == [r.model for r in results]
    assert rows[0]["accuracy"] == f"{results[0].accuracy:.4f}"
    md = (tmp_path / "baselines.md").read_text()
    assert f"{TRAIN} MNIST training digits" in md and f"{TEST} MNIST test digits" in md
    assert "logical cores" in md  # the machine the timings come from
    assert md.count("\n| ") == len(results) + 1


def test_svm_is_capped_and_says_so(tmp_path, mnist_dir):
    from marksocr.recognition.baselines import load_split, run_svm

    settings = BaselineSettings(test_size=200, svm_max_train=300)
    split = load_split(600, mnist_dir, settings)
    result = run_svm(split, settings)
    assert result.trained_on == "300 digits"
    assert "300-digit subset of the 600" in result.notes
    assert result.accuracy > 0.7
