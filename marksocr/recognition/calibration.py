"""Probability calibration: temperature scaling and expected calibration error."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def softmax(logits: npt.NDArray[np.floating], temperature: float = 1.0) -> npt.NDArray[np.float64]:
    z = np.asarray(logits, np.float64) / float(temperature)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(p, 1e-12, 1.0)).mean())


def fit_temperature(logits: npt.NDArray[np.floating], labels: npt.NDArray[np.integer]) -> float:
    """The temperature minimising validation negative log-likelihood (golden-section search on log T)."""
    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(logits, labels, np.exp(a)), nll(logits, labels, np.exp(b))
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(logits, labels, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(logits, labels, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def reliability(probs: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], bins: int = 15) -> dict[str, list[float]]:
    """Per-bin confidence, accuracy and count for a reliability diagram."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    out: dict[str, list[float]] = {"edges": edges.tolist(), "confidence": [], "accuracy": [], "count": []}
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        out["count"].append(n)
        out["confidence"].append(float(conf[sel].mean()) if n else 0.0)
        out["accuracy"].append(float(correct[sel].mean()) if n else 0.0)
    return out


def expected_calibration_error(probs: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], bins: int = 15) -> float:
    """ECE: bin-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    r = reliability(probs, labels, bins)
    total = max(sum(r["count"]), 1)
    return float(sum(n / total * abs(a - c) for n, a, c in zip(r["count"], r["accuracy"], r["confidence"])))
