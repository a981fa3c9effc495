"""``marksocr evaluate``: measure a digit model on the MNIST test set and write a report.

The test digits are fed exactly as users feed the classifier: inverted to dark ink
on light paper and passed through ``DigitClassifier.predict_proba`` (normalisation
included). The report folder receives ``metrics.json``, PNG plots, a robustness
table (Markdown and CSV) and a ``report.md`` that links them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

from marksocr.paths import checkout_root
from marksocr.recognition.calibration import expected_calibration_error, reliability
from marksocr.recognition.card import card_path
from marksocr.recognition.mnist import load_mnist

log = logging.getLogger(__name__)

COVERAGES = (0.99, 0.98, 0.95)
RELIABILITY_BINS = 15
PLOTS = {
    "confusion_matrix": "confusion_matrix.png",
    "training_curves": "training_curves.png",
    "misclassified": "misclassified.png",
    "reliability": "reliability.png",
    "roc": "roc_curves.png",
    "robustness": "robustness.png",
}
PLOT_TITLES = {
    "confusion_matrix": "Confusion matrix", "training_curves": "Training curves (from the model card)",
    "misclassified": "Misclassified digits", "reliability": "Reliability diagram",
    "roc": "ROC curves per digit (one vs rest)", "robustness": "Robustness to corruptions",
}


# --------------------------------------------------------------------------- scores


def confusion_matrix(labels: npt.ArrayLike, pred: npt.ArrayLike, classes: int = 10) -> npt.NDArray[np.int64]:
    """Counts (classes, classes): row = true digit, column = predicted digit."""
    cm = np.zeros((classes, classes), np.int64)
    np.add.at(cm, (np.asarray(labels, np.int64), np.asarray(pred, np.int64)), 1)
    return cm


def class_scores(cm: npt.NDArray[np.int64]) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support from a confusion matrix, plus macro averages.

    A class never predicted has precision 0 (and F1 0), as in scikit-learn's ``zero_division=0``.
    """
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    per_class = {
        str(k): {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]), "support": int(support[k])}
        for k in range(len(cm))
    }
    macro = {"precision": float(precision.mean()), "recall": float(recall.mean()), "f1": float(f1.mean())}
    return {"per_class": per_class, "macro": macro}


def coverage_errors(probs: npt.NDArray[np.floating], labels: npt.ArrayLike, coverages: tuple[float, ...] = COVERAGES) -> list[dict[str, float]]:
    """Error rate among accepted digits when the least confident are sent to review.

    For each target coverage the threshold is the confidence of the last digit kept
    when digits are ranked by confidence; the rule applied is ``confidence >= threshold``,
    so ties can make the actual coverage slightly larger than the target.
    """
    labels = np.asarray(labels)
    conf = probs.max(axis=1)
    wrong = probs.argmax(axis=1) != labels
    ranked = np.sort(conf)[::-1]
    rows = []
    for target in coverages:
        keep = max(1, int(np.ceil(target * len(conf) - 1e-9)))  # 0.95 * 100 may be 95.000...01
        threshold = float(ranked[keep - 1])
        accepted = conf >= threshold
        n_acc = int(accepted.sum())
        errors = int((wrong & accepted).sum())
        rows.append({
            "target_coverage": target, "threshold": threshold, "coverage": n_acc / len(conf),
            "accepted": n_acc, "sent_to_review": int(len(conf) - n_acc), "errors": errors,
            "error_rate": errors / n_acc,
        })
    return rows


def roc_curve(scores: npt.NDArray[np.floating], positive: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """One-vs-rest ROC: (false positive rates, true positive rates, area under the curve).

    One point per distinct score, so tied scores move both rates at once (as scikit-learn does).
    """
    order = np.argsort(-np.asarray(scores, np.float64), kind="mergesort")
    s, y = np.asarray(scores)[order], np.asarray(positive, bool)[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tps = np.cumsum(y)[last]
    fps = last + 1 - tps
    p, n = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    tpr, fpr = np.r_[0.0, tps / p], np.r_[0.0, fps / n]
    auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    return fpr, tpr, auc


def brier_score(probs: npt.NDArray[np.floating], labels: npt.ArrayLike) -> float:
    """Mean squared distance between the probability rows and the one-hot truth."""
    onehot = np.eye(probs.shape[1])[np.asarray(labels, np.int64)]
    return float(((probs - onehot) ** 2).sum(axis=1).mean())


def score_predictions(probs: npt.NDArray[np.floating], labels: npt.ArrayLike) -> dict[str, Any]:
    """All headline numbers for a set of calibrated probabilities."""
    labels = np.asarray(labels)
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(labels, pred, probs.shape[1])
    scores = class_scores(cm)
    return {
        "accuracy": float((pred == labels).mean()),
        "errors": int((pred != labels).sum()),
        "ece": expected_calibration_error(probs, labels, RELIABILITY_BINS),
        "ece_bins": RELIABILITY_BINS,
        "brier": brier_score(probs, labels),
        "macro": scores["macro"],
        "per_class": scores["per_class"],
        "coverage": coverage_errors(probs, labels),
        "confusion_matrix": cm.tolist(),
    }


# --------------------------------------------------------------------------- the report


def evaluate_model(
    model_path: Path | str,
    report_dir: Path | str,
    data_dir: Optional[Path] = None,
    progress: Callable[[str], None] = print,
    limit: Optional[int] = None,
    robustness_digits: int = 2000,
    seed: int = 0,
    classifier: Any = None,
) -> dict[str, Any]:
    """Evaluate a model file on the MNIST test set; write the report; return the metrics.

    ``limit`` evaluates only the first ``limit`` test digits (for quick runs and tests);
    ``robustness_digits`` is the size of the fixed random subset used for the robustness table;
    ``classifier`` is the already loaded ``DigitClassifier`` of ``model_path``, if there is one.
    """
    from marksocr.recognition import report_plots
    from marksocr.recognition.classifier import DigitClassifier
    from marksocr.recognition.robustness import robustness_table, write_robustness

    report = Path(report_dir)
    report.mkdir(parents=True, exist_ok=True)
    if classifier is None:
        progress(f"loading model {model_path} ...")
    clf = classifier or DigitClassifier.load(model_path)
    test = load_mnist("test", data_dir)
    n = min(limit, len(test)) if limit else len(test)
    crops, labels = 255 - test.images[:n], test.labels[:n]  # dark ink on light paper, as users pass them

    progress(f"scoring {n} MNIST test digits through predict_proba ...")
    start = time.perf_counter()
    probs = clf.predict_proba(list(crops))
    seconds = time.perf_counter() - start
    metrics = _metrics_header(clf, Path(model_path), test.checksums, n, len(test), data_dir)
    metrics.update(score_predictions(probs, labels))
    metrics["blank_crops"] = int(np.isclose(probs, 0.1).all(axis=1).sum())  # uniform row = treated as blank
    metrics["scoring_seconds"] = round(seconds, 2)
    metrics["roc_auc"] = {}

    progress("measuring robustness to corruptions ...")
    rob = robustness_table(clf, crops, labels, robustness_digits, seed)
    metrics["robustness"] = rob
    write_robustness(rob, report)

    progress("drawing plots ...")
    metrics["roc_auc"] = _draw_plots(report_plots, report, clf, crops, labels, probs, rob)
    metrics["plots"] = dict(PLOTS)
    (report / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (report / "report.md").write_text(_report_markdown(metrics), encoding="utf-8")
    progress(f"accuracy {metrics['accuracy']:.4%} on {n} digits, ECE {metrics['ece']:.4f}, "
             f"macro F1 {metrics['macro']['f1']:.4f}; report in {report}")
    return metrics


def _shown(path: Path) -> str:
    """A path relative to the checkout when it lies inside it, so committed reports do not name one machine."""
    root = checkout_root()
    try:
        return str(Path(path).resolve().relative_to(root)) if root else str(path)
    except ValueError:
        return str(path)


def _metrics_header(clf: Any, model_path: Path, checksums: dict[str, str], n: int, total: int, data_dir: Optional[Path]) -> dict[str, Any]:
    card = clf.card
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "model": {
            "path": _shown(model_path), "card": _shown(card_path(model_path)), "version": clf.version,
            "architecture": card.get("architecture"), "sha256": card.get("sha256"),
            "temperature": clf.temperature, "card_metrics": card.get("metrics", {}),
        },
        "data": {"split": "MNIST test", "digits": n, "of": total, "limited": n < total,
                 "directory": _shown(data_dir) if data_dir else None, "checksums": checksums,
                 "fed_as": "inverted to dark-on-light uint8 28x28 crops, through DigitClassifier.predict_proba"},
    }


def _draw_plots(plots: Any, report: Path, clf: Any, crops: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8],
                probs: npt.NDArray[np.float64], rob: dict[str, Any]) -> dict[str, float]:
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    plots.plot_confusion(confusion_matrix(labels, pred), report / PLOTS["confusion_matrix"])
    plots.plot_training_curves(clf.card.get("history") or {}, report / PLOTS["training_curves"], clf.version)
    plots.plot_misclassified(crops, labels, pred, conf, report / PLOTS["misclassified"])
    ece = expected_calibration_error(probs, labels, RELIABILITY_BINS)
    plots.plot_reliability(reliability(probs, labels, RELIABILITY_BINS), ece, report / PLOTS["reliability"])
    curves = {k: roc_curve(probs[:, k], labels == k) for k in range(probs.shape[1])}
    plots.plot_roc(curves, report / PLOTS["roc"])
    plots.plot_robustness(rob, report / PLOTS["robustness"])
    return {str(k): c[2] for k, c in curves.items()}


def _report_markdown(m: dict[str, Any]) -> str:
    from marksocr.recognition.robustness import robustness_markdown

    d = m["data"]
    lines = [
        f"# Evaluation of `{m['model']['version']}`",
        "",
        f"Model `{m['model']['path']}` (card `{m['model']['card']}`), evaluated {m['created']} on "
        f"{d['digits']} of {d['of']} MNIST test digits{' (limited run)' if d['limited'] else ''}, "
        "fed as users feed it: inverted to dark-on-light crops through `predict_proba`.",
        "",
        "| metric | value |", "|---|---|",
        f"| accuracy | {m['accuracy']:.4%} ({m['errors']} errors) |",
        f"| macro precision / recall / F1 | {m['macro']['precision']:.4f} / {m['macro']['recall']:.4f} / {m['macro']['f1']:.4f} |",
        f"| expected calibration error ({m['ece_bins']} bins) | {m['ece']:.4f} |",
        f"| Brier score | {m['brier']:.4f} |",
        f"| crops treated as blank | {m['blank_crops']} |",
        "",
        "## Sending the least confident digits to review", "",
        "| target coverage | confidence threshold | actual coverage | sent to review | errors accepted | error rate |",
        "|---|---|---|---|---|---|",
    ]
    for c in m["coverage"]:
        lines.append(f"| {c['target_coverage']:.0%} | {c['threshold']:.6f} | {c['coverage']:.2%} | {c['sent_to_review']} "
                     f"| {c['errors']} | {c['error_rate']:.4%} |")
    lines += ["", "## Per class", "", "| digit | precision | recall | F1 | support | ROC AUC |", "|---|---|---|---|---|---|"]
    for k, s in m["per_class"].items():
        lines.append(f"| {k} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['support']} | {m['roc_auc'][k]:.6f} |")
    lines += ["", "## Plots", ""]
    for name, file in m["plots"].items():
        lines += [f"### {PLOT_TITLES[name]}", "", f"![{PLOT_TITLES[name]}]({file})", ""]
    lines += ["## Robustness", "", robustness_markdown(m["robustness"]), "",
              "Data: [metrics.json](metrics.json), [robustness.csv](robustness.csv), [robustness.md](robustness.md).", ""]
    return "\n".join(lines)
