"""PNG figures for the evaluation report (matplotlib, Agg backend, imported lazily).

Each function takes plain arrays, writes one PNG and returns its path, so the
figures can be drawn from saved metrics as well as from a live evaluation.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

DPI = 100


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display needed; safe in worker threads and CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path = Path(path)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    _pyplot().close(fig)
    log.info("wrote %s", path)
    return path


def plot_confusion(cm: npt.NDArray[np.int64], path: Path) -> Path:
    """Counts with a log colour scale, so single errors off the diagonal stay visible."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    shown = np.ma.masked_equal(cm, 0)
    im = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=1, vmax=max(int(cm.max()), 2)))
    for (i, j), v in np.ndenumerate(cm):
        if v:
            dark = v > cm.max() ** 0.6
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(len(cm)))
    ax.set_yticks(range(len(cm)))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    errors = int(cm.sum() - np.trace(cm))
    ax.set_title(f"Confusion matrix: {cm.sum()} digits, {errors} errors\n(colour on a log scale)")
    fig.colorbar(im, ax=ax, label="count")
    return _save(fig, path)


def plot_training_curves(history: dict[str, list[float]], path: Path, title: str = "") -> Path:
    """Loss and accuracy per epoch from the model card's history (train and validation)."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    if not history:
        for ax in (ax_loss, ax_acc):
            ax.text(0.5, 0.5, "the model card has no training history", ha="center", va="center")
            ax.set_axis_off()
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        for prefix, style in (("", "-o"), ("val_", "-s")):
            values = history.get(prefix + key)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, ms=3, label=("validation " if prefix else "training ") + key)
        if history:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch")
            ax.set_ylabel(key)
            ax.grid(alpha=0.3)
            ax.legend()
    if history.get("val_accuracy"):
        ax_acc.set_ylim(max(0.0, min(history["val_accuracy"] + history.get("accuracy", [])) - 0.01), 1.0)
    ax_loss.set_title("Loss (training loss is on augmented digits)")
    ax_acc.set_title("Accuracy")
    fig.suptitle(f"Training curves {title}".strip())
    return _save(fig, path)


def plot_misclassified(crops: npt.NDArray[np.uint8], labels: npt.NDArray[np.uint8], pred: npt.NDArray[np.int64],
                       conf: npt.NDArray[np.float64], path: Path, max_items: int = 60, columns: int = 10) -> Path:
    """Misclassified crops as fed to the model, most confident mistakes first."""
    plt = _pyplot()
    wrong = np.flatnonzero(pred != labels)
    wrong = wrong[np.argsort(-conf[wrong], kind="mergesort")][:max_items]
    rows = max(1, int(np.ceil(len(wrong) / columns)))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.35 + 0.5), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(crops[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"true {labels[i]} pred {pred[i]}\n{conf[i]:.2f}", fontsize=7)
    total = int((pred != labels).sum())
    head = f"Misclassified: {len(wrong)} of {total} shown, most confident first (true / predicted / confidence)"
    if total == 0:
        axes.flat[0].text(0.5, 0.5, "no misclassified digits", ha="center", va="center")
    fig.suptitle(head, fontsize=9)
    return _save(fig, path)


def plot_reliability(rel: dict[str, list[float]], ece: float, path: Path) -> Path:
    """Accuracy against confidence per bin (top) and how many digits fall in each bin (bottom, log)."""
    plt = _pyplot()
    edges = np.asarray(rel["edges"])
    counts = np.asarray(rel["count"])
    acc, conf = np.asarray(rel["accuracy"]), np.asarray(rel["confidence"])
    width = np.diff(edges)
    used = counts > 0
    fig, (ax, ax_n) = plt.subplots(2, 1, figsize=(6, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.bar(edges[:-1][used], acc[used], width=width[used], align="edge", edgecolor="black", alpha=0.7, label="accuracy")
    ax.bar(edges[:-1][used], np.abs(conf - acc)[used], bottom=np.minimum(acc, conf)[used], width=width[used],
           align="edge", fill=False, hatch="//", edgecolor="red", label="gap to mean confidence")
    ax.plot((edges[:-1] + width / 2)[used], conf[used], "r_", ms=14, mew=2, label="mean confidence")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Reliability diagram ({len(counts)} bins, ECE {ece:.4f})")
    ax.legend(loc="upper left")
    ax_n.bar(edges[:-1][used], counts[used], width=width[used], align="edge", edgecolor="black")
    ax_n.set_yscale("log")
    ax_n.set_xlabel("confidence (max calibrated probability)")
    ax_n.set_ylabel("digits")
    ax_n.set_xlim(0, 1)
    return _save(fig, path)


def plot_roc(curves: dict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]], path: Path) -> Path:
    """One-vs-rest ROC per digit: the full curve, and a zoom on the top-left corner (log FPR)."""
    plt = _pyplot()
    fig, (ax, ax_zoom) = plt.subplots(1, 2, figsize=(12, 5))
    cmap = plt.get_cmap("tab10")
    smallest = min((float(c[0][c[0] > 0].min()) for c in curves.values() if (c[0] > 0).any()), default=1e-4)
    for k, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, color=cmap(k), lw=1.2, label=f"{k}: AUC {auc:.6f}")
        # Straight segments between ROC points (tied scores give a slanted segment); the (0, 0)
        # origin cannot be shown on a log axis, so FPR 0 is drawn at the left edge.
        ax_zoom.plot(np.maximum(fpr[1:], smallest / 2), tpr[1:], color=cmap(k), lw=1.2)
    ax.plot([0, 1], [0, 1], "--", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC per digit (one vs rest)")
    ax.legend(fontsize=8, loc="lower right")
    ax_zoom.set_xscale("log")
    ax_zoom.set_xlim(smallest / 2, 1)
    low = min(float(np.interp(1e-3, c[0], c[1])) for c in curves.values())
    ax_zoom.set_ylim(max(0.0, min(low, 0.98) - 0.02), 1.001)
    ax_zoom.set_xlabel("false positive rate (log scale; left edge = 0)")
    ax_zoom.set_ylabel("true positive rate")
    ax_zoom.set_title("Zoom on the top-left corner")
    for a in (ax, ax_zoom):
        a.grid(alpha=0.3)
    return _save(fig, path)


def plot_robustness(table: dict[str, Any], path: Path) -> Path:
    """Accuracy against severity, one line per corruption, with the clean accuracy as reference."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    clean = table["clean_accuracy"]
    names = list(dict.fromkeys(r["corruption"] for r in table["rows"] if r["severity"] > 0))
    for name in names:
        rows = [r for r in table["rows"] if r["corruption"] == name]
        ax.plot([0] + [r["severity"] for r in rows], [clean] + [r["accuracy"] for r in rows], "-o", ms=4, label=name)
    ax.axhline(clean, color="grey", ls="--", lw=0.8)
    ax.set_xticks([0, 1, 2, 3])
    ax.set_xlabel("severity (0 = clean)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Robustness on {table['digits']} photo-like test crops")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)
