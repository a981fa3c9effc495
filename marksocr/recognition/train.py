"""Train a digit model from MNIST (plus optional extra labelled crops) and write its card.

Training code lives apart from the predictor (``classifier.py``): the predictor
needs only the saved model and its card.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

import cv2
import numpy as np
import numpy.typing as npt

from marksocr import __version__
from marksocr.domain import DataError
from marksocr.recognition.augment import PEN, augment_batch
from marksocr.recognition.calibration import expected_calibration_error, fit_temperature
from marksocr.recognition.card import file_sha256, write_card
from marksocr.recognition.mnist import DigitSet, load_mnist
from marksocr.recognition.normalize import normalize_batch, normalize_digit

log = logging.getLogger(__name__)

HARVEST_FORMAT = "marksocr.harvest/1"
HARVEST_MANIFEST = "harvest.json"
"""The recipe file ``marksocr harvest`` (marksocr.sheets.harvest) writes beside its crops."""

DEFAULT_EPOCHS = {"seed003": 5, "default": 32, "default_v1": 24, "mlp": 10}


@dataclass
class TrainConfig:
    architecture: str = "default"
    epochs: Optional[int] = None
    batch_size: int = 128
    learning_rate: float = 2e-3
    validation: int = 5000
    seed: int = 2026
    split_seed: Optional[int] = None  # which digits are held out for validation (default: ``seed``)
    limit: Optional[int] = None
    augment: Optional[bool] = None  # default: on for "default", off for the baselines
    augment_probability: float = 0.5
    augment_pen: float = PEN  # share of augmented digits redrawn with an even-width pen
    data_dir: Optional[Path] = None
    extra_dir: Optional[Path] = None
    init: Optional[Path] = None  # start from this model's weights (fine-tuning, retraining with extra crops)
    out: Path = Path("models/digits.keras")

    def resolved(self) -> "TrainConfig":
        c = TrainConfig(**asdict(self))
        c.epochs = c.epochs or DEFAULT_EPOCHS.get(c.architecture, 10)
        c.augment = c.architecture.startswith("default") if c.augment is None else c.augment
        return c


@dataclass
class Prepared:
    """Training data as used: raw digits to augment (white on black) and normalised sets."""

    train_raw: npt.NDArray[np.uint8]
    train_labels: npt.NDArray[np.uint8]
    val_images: npt.NDArray[np.float32]
    val_labels: npt.NDArray[np.uint8]
    checksums: dict[str, str] = field(default_factory=dict)
    extra_count: int = 0
    train_normalized: Optional[npt.NDArray[np.float32]] = None
    """The training digits already normalised, when a caller has them (used when not augmenting)."""

    def normalized_train(self) -> npt.NDArray[np.float32]:
        """Normalised training digits, computed once and kept."""
        if self.train_normalized is None:
            self.train_normalized, _ = normalize_batch(list(255 - self.train_raw))
        return self.train_normalized


def load_extra(directory: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Labelled crops from ``DIR/<digit>/*.png`` as MNIST-like uint8 digits (white on black)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: extra training folder not found")
    images, labels = [], []
    for digit in range(10):
        for png in sorted((directory / str(digit)).glob("*.png")):
            crop = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
            if crop is None:
                raise DataError(f"{png}: not a readable PNG image")
            norm = normalize_digit(crop)
            if norm.blank:
                log.warning("%s: blank crop, skipped", png)
                continue
            images.append((norm.image * 255).astype(np.uint8))
            labels.append(digit)
    if not images:
        raise DataError(f"{directory}: no labelled crops found (expected {directory}/<digit>/*.png)")
    return np.stack(images), np.asarray(labels, np.uint8)


def prepare(config: TrainConfig) -> Prepared:
    data: DigitSet = load_mnist("train", config.data_dir)
    rng = np.random.default_rng(config.seed if config.split_seed is None else config.split_seed)
    order = rng.permutation(len(data))
    n_val = min(config.validation, len(order) // 5)
    val_idx, train_idx = order[:n_val], order[n_val:]
    if config.limit:
        train_idx = train_idx[: config.limit]
        val_idx = val_idx[: max(500, config.limit // 5)]
    train_raw, train_labels = data.images[train_idx], data.labels[train_idx]
    extra_count = 0
    if config.extra_dir:
        ex_img, ex_lbl = load_extra(config.extra_dir)
        extra_count = len(ex_lbl)
        train_raw = np.concatenate([train_raw, ex_img])
        train_labels = np.concatenate([train_labels, ex_lbl])
    val_images, _ = normalize_batch(list(255 - data.images[val_idx]))
    return Prepared(train_raw, train_labels, val_images, data.labels[val_idx], dict(data.checksums), extra_count)


def _sequence(prepared: Prepared, config: TrainConfig) -> Any:
    import keras

    class AugmentedDigits(keras.utils.PyDataset):
        """Each epoch, fresh photo-like augmentations of the training digits."""

        def __init__(self) -> None:
            super().__init__(workers=2, use_multiprocessing=False, max_queue_size=8)
            self.rng = np.random.default_rng(config.seed + 1)
            self.order = self.rng.permutation(len(prepared.train_labels))
            self.clean = None if config.augment else prepared.normalized_train()

        def __len__(self) -> int:
            return math.ceil(len(self.order) / config.batch_size)

        def __getitem__(self, i: int) -> tuple[Any, Any]:
            idx = self.order[i * config.batch_size:(i + 1) * config.batch_size]
            if self.clean is not None:
                x = self.clean[idx]
            else:
                rng = np.random.default_rng((config.seed, self.epoch, i))
                x = augment_batch(prepared.train_raw[idx], rng, config.augment_probability, config.augment_pen)
            return x[..., None], prepared.train_labels[idx].astype(np.int32)

        epoch = 0

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = self.rng.permutation(len(prepared.train_labels))

    return AugmentedDigits()


def _compile_model(model: Any, config: TrainConfig, steps: int) -> None:
    import keras

    if config.architecture == "seed003":
        optimizer = keras.optimizers.Adam()  # the paper's recipe: plain Adam
    else:
        total = steps * config.epochs
        warmup = min(steps, total // 5)
        schedule = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=config.learning_rate / 10, decay_steps=max(total - warmup, 1), alpha=0.01,
            warmup_target=config.learning_rate, warmup_steps=warmup,
        )
        optimizer = keras.optimizers.Adam(learning_rate=schedule)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def fit(config: TrainConfig, prepared: Prepared, verbose: int = 2) -> tuple[Any, dict[str, list[float]], float]:
    """Train; return (model, per-epoch history, seconds)."""
    import keras

    from marksocr.recognition.architectures import build

    keras.utils.set_random_seed(config.seed)
    model = build(config.architecture)
    if config.init:
        _load_initial_weights(model, Path(config.init))
    seq = _sequence(prepared, config)
    _compile_model(model, config, len(seq))
    start = time.perf_counter()
    history = model.fit(
        seq, epochs=config.epochs, verbose=verbose,
        validation_data=(prepared.val_images[..., None], prepared.val_labels.astype(np.int32)),
    )
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    return model, hist, seconds


def _load_initial_weights(model: Any, path: Path) -> None:
    from marksocr.recognition.classifier import DigitClassifier

    source = DigitClassifier.load(path)  # checks the card too
    try:
        model.set_weights(source.keras_model.get_weights())
    except ValueError as exc:
        raise DataError(f"{path}: its architecture does not match the one being trained ({exc})") from exc


def _save_inference_model(model: Any, architecture: str, out: Path) -> None:
    """Save weights and architecture only (no optimizer state), so the file stays small."""
    from marksocr.recognition.architectures import build

    clone = build(architecture)  # a fresh, uncompiled copy: nothing of the optimizer is saved
    clone.set_weights(model.get_weights())
    out.parent.mkdir(parents=True, exist_ok=True)
    clone.save(out)


def train(config: TrainConfig, progress: Callable[[str], None] = print, verbose: int = 2) -> dict[str, Any]:
    """Train a model, calibrate it, measure it on the MNIST test set, save it with its card."""
    config = config.resolved()
    extra = _extra_summary(Path(config.extra_dir)) if config.extra_dir else None  # read before hours of training
    progress(f"loading MNIST{' (limit %d)' % config.limit if config.limit else ''} ...")
    prepared = prepare(config)
    progress(f"training {config.architecture} on {len(prepared.train_labels)} digits "
             f"({prepared.extra_count} extra), {config.epochs} epochs, validating on {len(prepared.val_labels)}")
    model, history, seconds = fit(config, prepared, verbose)

    val_logits = model.predict(prepared.val_images[..., None], batch_size=1024, verbose=0)
    temperature = fit_temperature(val_logits, prepared.val_labels)
    out = Path(config.out)
    _save_inference_model(model, config.architecture, out)
    # Score the saved file exactly as users load it: crops in, calibrated probabilities out.
    metrics = _test_metrics(out, temperature, config, history, seconds)
    card = {
        **card_stamp(model, out, config.architecture),
        "temperature": temperature,
        "recipe": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items() if k not in ("out",)},
        "data": {"mnist": prepared.checksums, "train_digits": int(len(prepared.train_labels)),
                 "validation_digits": int(len(prepared.val_labels)), "extra_digits": prepared.extra_count},
        "metrics": metrics,
        "history": history,
    }
    if config.init:
        card["parent"] = _parent_summary(Path(config.init))
    if extra is not None:
        card["data"]["extra"] = extra
    write_card(out, card)
    progress(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB): test accuracy {metrics['test_accuracy']:.4%}, "
             f"ECE {metrics['test_ece']:.4f}, temperature {temperature:.3f}")
    return card


def card_stamp(model: Any, out: Path, architecture: str) -> dict[str, Any]:
    """What every model card says of the file itself: its version (architecture, date, start of the
    file's sha256), when and with which marksocr and Keras it was made, and its size."""
    return {
        "version": f"{architecture}-{dt.date.today():%Y%m%d}-{file_sha256(out)[:8]}",
        "architecture": architecture,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "marksocr_version": __version__,
        "keras_version": keras_version(),
        "parameters": int(model.count_params()),
    }


def score_model(model_path: Path, data_dir: Optional[Path]) -> dict[str, Any]:
    """MNIST test accuracy and ECE of a saved model, fed as users feed it (dark-on-light crops)."""
    from marksocr.recognition.classifier import DigitClassifier

    clf = DigitClassifier.load(model_path)
    test = load_mnist("test", data_dir)
    probs = clf.predict_proba(list(255 - test.images))
    return {
        "test_accuracy": float((probs.argmax(axis=1) == test.labels).mean()),
        "test_ece": expected_calibration_error(probs, test.labels),
        "test_digits": int(len(test.labels)),
    }


def score_saved(out: Path, temperature: float, data_dir: Optional[Path]) -> dict[str, Any]:
    """:func:`score_model` of a model just saved at ``out``, loaded through a provisional card
    (the loader needs one) that the caller then replaces with the full card."""
    write_card(out, {"version": "unscored", "temperature": temperature})
    return score_model(out, data_dir)


def _test_metrics(out: Path, temperature: float, config: TrainConfig, history: dict[str, list[float]], seconds: float) -> dict[str, Any]:
    return {
        **score_saved(out, temperature, config.data_dir),
        "validation_accuracy": float(history.get("val_accuracy", [float("nan")])[-1]),
        "training_seconds": round(seconds, 1),
    }


def rescore_card(model_path: Path, data_dir: Optional[Path] = None) -> dict[str, Any]:
    """Measure a model again with the current code (e.g. after a normaliser change) and update its card.

    The model file is untouched; the card keeps its earlier figures under ``metrics_history``.
    """
    from marksocr.recognition.card import read_card

    card = read_card(model_path)
    fresh = score_model(model_path, data_dir)
    previous = {k: card["metrics"].get(k) for k in fresh}
    card.setdefault("metrics_history", []).append(
        {**previous, "replaced": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    card["metrics"] = {**card["metrics"], **fresh, "scored_with": f"marksocr {__version__}"}
    write_card(model_path, {k: v for k, v in card.items() if k not in ("format", "sha256", "file", "file_bytes", "input_shape", "classes")})
    return card


def _parent_summary(path: Path) -> dict[str, Any]:
    """What a fine-tuned model started from, so its card tells the whole recipe."""
    from marksocr.recognition.card import read_card

    parent = read_card(path)
    keep = ("version", "sha256", "architecture", "recipe", "data", "metrics", "history", "created", "parent")
    return {k: parent[k] for k in keep if k in parent}


def read_harvest_manifest(directory: Path) -> Optional[dict[str, Any]]:
    """The manifest of a folder of extra crops, or None when ``marksocr harvest`` did not make it."""
    path = Path(directory) / HARVEST_MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable harvest manifest ({exc})") from exc
    return manifest if isinstance(manifest, dict) and manifest.get("format") == HARVEST_FORMAT else None


def _extra_summary(directory: Path) -> dict[str, Any]:
    """Where the extra crops came from: the harvest recipe when ``marksocr harvest`` made them."""
    manifest = read_harvest_manifest(directory)
    if manifest is None:
        return {"folder": str(directory), "source": "labelled crops (not made by marksocr harvest)"}
    keep = ("created", "recipe", "model", "mnist", "counts")
    return {"folder": str(directory), "source": "marksocr harvest", **{k: manifest[k] for k in keep if k in manifest}}


def keras_version() -> str:
    import keras

    return str(keras.__version__)
