"""The digit classifier: normalise crops, run the network, return calibrated probabilities.

TensorFlow is imported on first load, never when this module is imported.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from marksocr.domain import ModelError
from marksocr.paths import default_model_path
from marksocr.recognition.calibration import softmax
from marksocr.recognition.card import read_card
from marksocr.recognition.ensemble import fold_members, is_ensemble
from marksocr.recognition.folding import fold_batchnorm
from marksocr.recognition.normalize import normalize_batch

log = logging.getLogger(__name__)

_BATCH = 1024
# predict_proba normalises and classifies large batches in chunks of this many crops.
_CHUNK = 512


class DigitClassifier:
    """A trained digit model with its card. Use ``DigitClassifier.load()``."""

    def __init__(self, model: Any, card: dict[str, Any], path: Path) -> None:
        self._model = model
        self.card = card
        self.path = path
        self.temperature = float(card["temperature"])
        self._lock = threading.Lock()
        # same outputs, fewer ops per block
        self._fn = _compile(fold_members(model, fold_batchnorm) if is_ensemble(model) else fold_batchnorm(model))

    @property
    def keras_model(self) -> Any:
        """The underlying Keras model (logits output), e.g. to fine-tune from it."""
        return self._model

    @property
    def version(self) -> str:
        return str(self.card.get("version", ""))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "DigitClassifier":
        """Load a model file and check it against its card (``<model>.json``)."""
        path = Path(path) if path is not None else default_model_path()
        card = read_card(path)
        import keras  # heavy: imported on first load only

        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as exc:  # keras raises many kinds for a bad file
            raise ModelError(f"{path}: cannot load the model ({type(exc).__name__}: {exc})") from exc
        shape = tuple(model.input_shape[1:])
        if shape != (28, 28, 1) or model.output_shape[-1] != 10:
            raise ModelError(f"{path}: model takes {shape} and gives {model.output_shape[-1]} outputs, not (28, 28, 1) -> 10")
        log.info("loaded digit model %s (%s)", path, card.get("version"))
        return cls(model, card, path)

    def predict_logits(self, images: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Raw network outputs for normalised (N, 28, 28) images."""
        if len(images) == 0:
            return np.zeros((0, 10), np.float32)
        x = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
        out = []
        with self._lock:
            for i in range(0, len(x), _BATCH):
                out.append(np.asarray(self._fn(x[i:i + _BATCH])))
        return np.concatenate(out)

    def predict_normalized(self, images: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities (N, 10) for already-normalised images."""
        return softmax(self.predict_logits(images), self.temperature)

    def predict_proba(self, crops: Sequence[npt.ArrayLike]) -> npt.NDArray[np.float64]:
        """Calibrated probabilities (N, 10) for dark-on-light crops of any size.

        A blank or near-blank crop gets a uniform row (0.1 each): it is not a digit.
        Large batches are pipelined: a worker thread normalises the next chunk of
        crops while the network (which releases the GIL) classifies this one.
        """
        crops = list(crops)
        probs = np.full((len(crops), 10), 0.1)
        starts = range(0, len(crops), _CHUNK)
        if len(starts) <= 1:
            self._classify_chunk(normalize_batch(crops), probs)
            return probs
        with ThreadPoolExecutor(1, thread_name_prefix="marksocr-normalise") as pool:
            pending = pool.submit(normalize_batch, crops[:_CHUNK])
            for start in starts:
                normalized = pending.result()
                if start + _CHUNK < len(crops):
                    pending = pool.submit(normalize_batch, crops[start + _CHUNK:start + 2 * _CHUNK])
                self._classify_chunk(normalized, probs[start:start + _CHUNK])
        return probs

    def _classify_chunk(self, normalized: tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]], out: npt.NDArray[np.float64]) -> None:
        images, blank = normalized
        if (~blank).any():
            out[~blank] = self.predict_normalized(images[~blank])


def _compile(model: Any) -> Any:
    import tensorflow as tf

    # autograph=False: a plain call needs no conversion (and AutoGraph warned about the closure)
    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)], reduce_retracing=True, autograph=False)
    def infer(x: Any) -> Any:
        return model(x, training=False)

    return infer
