"""``marksocr evaluate --baselines``: compare the shipped model with classic classifiers.

Every model is trained on the same MNIST training subset and scored on the same
MNIST test digits, all normalised once by ``normalize_batch`` (exactly the inputs
the classifier sees in use) and kept in memory. The table reports what was actually
run: how many digits each model trained on, training seconds and inference speed
measured on this machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import numpy.typing as npt

from marksocr.recognition.evaluate import class_scores, confusion_matrix
from marksocr.recognition.mnist import load_mnist
from marksocr.recognition.normalize import normalize_batch

log = logging.getLogger(__name__)

COLUMNS = ("model", "trained_on", "accuracy", "macro_f1", "train_seconds", "digits_per_second", "notes")
KERAS_NAMES = {"mlp": "Feed-forward network (784-256-128-10)", "seed003": "seed003 (the paper's CNN)"}
VALIDATION = 1000  # held-out MNIST training digits, only for the Keras models' per-epoch log


@dataclass
class BaselineSettings:
    """Hyper-parameters; the defaults are what ``marksocr evaluate --baselines`` runs."""

    knn_k: int = 3
    svm_c: float = 5.0
    svm_max_train: int = 20000  # RBF SVM training is quadratic: cap it (at larger --baseline-train) and say so
    rf_trees: int = 200
    mlp_epochs: int = 10
    seed003_epochs: int = 5  # the paper's recipe
    test_size: Optional[int] = None  # None: the full MNIST test set
    seed: int = 0
    shipped_model: Optional[Path] = None  # None: the default model path


@dataclass
class Split:
    """Normalised (N, 28, 28) float32 images, white on black, with labels."""

    train_x: npt.NDArray[np.float32]
    train_y: npt.NDArray[np.uint8]
    train_raw: npt.NDArray[np.uint8]
    val_x: npt.NDArray[np.float32]
    val_y: npt.NDArray[np.uint8]
    test_x: npt.NDArray[np.float32]
    test_y: npt.NDArray[np.uint8]
    blank_test: int = 0
    normalise_seconds: float = 0.0


@dataclass
class Result:
    model: str
    trained_on: str
    accuracy: float
    macro_f1: float
    train_seconds: Optional[float]
    digits_per_second: float
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_split(train_size: int, data_dir: Optional[Path], settings: BaselineSettings) -> Split:
    """A random training subset (plus a small held-out validation set) and the test set, normalised once."""
    train, test = load_mnist("train", data_dir), load_mnist("test", data_dir)
    order = np.random.default_rng(settings.seed).permutation(len(train))
    n_val = min(VALIDATION, len(order) // 10)
    val_idx, train_idx = order[:n_val], order[n_val:n_val + train_size]
    n_test = min(settings.test_size or len(test), len(test))
    start = time.perf_counter()
    train_x, _ = normalize_batch(list(255 - train.images[train_idx]))  # dark-on-light, as users pass crops
    val_x, _ = normalize_batch(list(255 - train.images[val_idx]))
    test_x, blank = normalize_batch(list(255 - test.images[:n_test]))
    seconds = time.perf_counter() - start
    return Split(train_x, train.labels[train_idx], train.images[train_idx], val_x, train.labels[val_idx],
                 test_x, test.labels[:n_test], int(blank.sum()), seconds)


def _flat(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return x.reshape(len(x), -1)


def _score(name: str, trained_on: str, pred: npt.NDArray[np.int64], y: npt.NDArray[np.uint8],
           train_s: Optional[float], infer_s: float, notes: str) -> Result:
    scores = class_scores(confusion_matrix(y, pred))
    return Result(name, trained_on, float((pred == y).mean()), scores["macro"]["f1"],
                  None if train_s is None else round(train_s, 1), len(y) / max(infer_s, 1e-9), notes)


def _sklearn(name: str, estimator: Any, split: Split, n_train: int, notes: str) -> Result:
    """Fit on the first ``n_train`` training digits, predict the whole test set in one batch."""
    x, y = _flat(split.train_x[:n_train]), split.train_y[:n_train]
    start = time.perf_counter()
    estimator.fit(x, y)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = estimator.predict(_flat(split.test_x))
    infer_s = time.perf_counter() - start
    return _score(name, f"{n_train} digits", np.asarray(pred, np.int64), split.test_y, train_s, infer_s, notes)


def run_knn(split: Split, s: BaselineSettings) -> Result:
    from sklearn.neighbors import KNeighborsClassifier

    return _sklearn(f"KNN (k={s.knn_k})", KNeighborsClassifier(n_neighbors=s.knn_k, n_jobs=-1),
                    split, len(split.train_y), "raw normalised pixels, Euclidean; fit only stores the data")


def run_svm(split: Split, s: BaselineSettings) -> Result:
    from sklearn.svm import SVC

    n = min(len(split.train_y), s.svm_max_train)
    capped = f"; trained on a {n}-digit subset of the {len(split.train_y)} (RBF SVM training is quadratic)" if n < len(split.train_y) else ""
    return _sklearn("SVM (RBF)", SVC(kernel="rbf", C=s.svm_c, gamma="scale", cache_size=1000),
                    split, n, f"C={s.svm_c:g}, gamma=scale{capped}")


def run_forest(split: Split, s: BaselineSettings) -> Result:
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=s.rf_trees, n_jobs=-1, random_state=s.seed)
    return _sklearn("Random forest", forest, split, len(split.train_y), f"{s.rf_trees} trees")


def run_keras(architecture: str, epochs: int, split: Split, s: BaselineSettings) -> Result:
    """Train ``architecture`` with ``train.fit`` (the same recipe as ``marksocr train --arch``), no augmentation."""
    from marksocr.recognition.classifier import DigitClassifier
    from marksocr.recognition.train import Prepared, TrainConfig, fit

    config = TrainConfig(architecture=architecture, epochs=epochs, augment=False, seed=2026 + s.seed).resolved()
    prepared = Prepared(split.train_raw, split.train_y, split.val_x, split.val_y, train_normalized=split.train_x)
    model, history, train_s = fit(config, prepared, verbose=0)
    clf = DigitClassifier(model, {"temperature": 1.0, "version": f"baseline-{architecture}"}, Path(f"<{architecture}>"))
    pred, infer_s = _timed_keras(clf, split.test_x)
    optimiser = "plain Adam (paper)" if architecture == "seed003" else "Adam, cosine LR schedule"
    notes = f"{epochs} epochs, {optimiser}, no augmentation, {int(model.count_params()):,} parameters"
    return _score(KERAS_NAMES.get(architecture, architecture), f"{len(split.train_y)} digits", pred, split.test_y, train_s, infer_s, notes)


def run_shipped(split: Split, s: BaselineSettings) -> Result:
    """Score the shipped model on the same normalised test digits; it is not retrained."""
    from marksocr.recognition.classifier import DigitClassifier

    clf = DigitClassifier.load(s.shipped_model)
    pred, infer_s = _timed_keras(clf, split.test_x)
    card = clf.card
    trained = card.get("data", {}).get("train_digits")
    secs = card.get("metrics", {}).get("training_seconds")
    epochs = card.get("recipe", {}).get("epochs")
    notes = (f"NOT retrained here: scored only. Card says {epochs} epochs, augmented, "
             f"{secs} s training; {int(card.get('parameters', 0)):,} parameters")
    return _score(f"shipped model {clf.version}", f"{trained} digits (its own training)", pred, split.test_y,
                  None, infer_s, notes)


def _timed_keras(clf: Any, x: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.int64], float]:
    """Predict after a warm-up batch (tracing the function is not inference); batches of 1024."""
    clf.predict_normalized(x[:256])
    start = time.perf_counter()
    probs = clf.predict_normalized(x)
    return probs.argmax(axis=1), time.perf_counter() - start


def machine() -> str:
    """One line describing the machine the timings come from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, Python {platform.python_version()}{load}"


def compare_baselines(report_dir: Path | str, data_dir: Optional[Path] = None, train_size: int = 20000,
                      progress: Callable[[str], None] = print, settings: Optional[BaselineSettings] = None) -> list[Result]:
    """Train and score every baseline; write ``baselines.md`` and ``baselines.csv``; return the rows."""
    s = settings or BaselineSettings()
    report = Path(report_dir)
    report.mkdir(parents=True, exist_ok=True)
    progress(f"baselines: normalising {train_size} training and {s.test_size or 'all'} test digits (once) ...")
    split = load_split(train_size, data_dir, s)
    runs: list[tuple[str, Callable[[], Result]]] = [
        ("KNN", lambda: run_knn(split, s)),
        ("SVM", lambda: run_svm(split, s)),
        ("random forest", lambda: run_forest(split, s)),
        ("feed-forward network", lambda: run_keras("mlp", s.mlp_epochs, split, s)),
        ("seed003", lambda: run_keras("seed003", s.seed003_epochs, split, s)),
        ("shipped model", lambda: run_shipped(split, s)),
    ]
    results = []
    for label, run in runs:
        progress(f"baselines: {label} ...")
        r = run()
        progress(f"baselines: {r.model}: accuracy {r.accuracy:.4f}, {r.train_seconds or 0:.1f} s training, "
                 f"{r.digits_per_second:,.0f} digits/s")
        results.append(r)
    md_path, _ = write_table(results, split, report, machine())
    _link_from_report(report, md_path)
    return results


def _link_from_report(report: Path, table: Path) -> None:
    """Add the table to ``report.md`` (written by ``evaluate_model``) if it is there and lacks it."""
    path = report / "report.md"
    if not path.is_file() or "(baselines.md)" in path.read_text(encoding="utf-8"):
        return
    body = table.read_text(encoding="utf-8").split("\n", 1)[1]
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n## Baselines\n" + body + "\nAlso as [baselines.md](baselines.md) and [baselines.csv](baselines.csv).\n")


def write_table(results: list[Result], split: Split, report: Path, host: str) -> tuple[Path, Path]:
    """``baselines.md`` (with how it was made) and ``baselines.csv``."""
    csv_path, md_path = report / "baselines.csv", report / "baselines.md"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in results:
            w.writerow([r.model, r.trained_on, f"{r.accuracy:.4f}", f"{r.macro_f1:.4f}",
                        "" if r.train_seconds is None else r.train_seconds, round(r.digits_per_second), r.notes])
    lines = [
        "# Baselines", "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on: {host}.", "",
        f"Trained on the same random subset of {len(split.train_y)} MNIST training digits; scored on "
        f"{len(split.test_y)} MNIST test digits. All models see the same inputs: crops inverted to dark-on-light "
        f"and normalised once by `normalize_batch` ({split.normalise_seconds:.0f} s for all digits, not counted below; "
        f"{split.blank_test} test crops came out blank; the Keras models train on these same normalised arrays). Inference speed is measured on the normalised inputs, batched "
        "(scikit-learn: one `predict` over the whole test set; Keras: batches of 1024 through the classifier's compiled "
        "function after a warm-up), so it excludes normalisation.", "",
        "| model | trained on | accuracy | macro F1 | training s | inference digits/s | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        train = "not retrained" if r.train_seconds is None else f"{r.train_seconds:.1f}"
        lines.append(f"| {r.model} | {r.trained_on} | {r.accuracy:.2%} | {r.macro_f1:.4f} | {train} "
                     f"| {r.digits_per_second:,.0f} | {r.notes} |")
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md_path, csv_path
