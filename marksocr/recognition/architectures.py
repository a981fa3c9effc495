"""Network definitions. Models output logits; softmax and temperature live in the predictor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def _seed003() -> Any:
    """The seed paper's network, exactly: Conv 32-64-64 3x3, Dense 64, 10 outputs (93,322 parameters)."""
    import keras
    from keras import layers as L

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            L.Conv2D(32, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(NUM_CLASSES),
        ],
        name="seed003",
    )


def _block(x: Any, filters: int, size: int = 3, strides: int = 1) -> Any:
    """Conv (no bias) + batch norm + ReLU; ``fold_batchnorm`` merges the first two for inference."""
    from keras import layers as L

    x = L.Conv2D(filters, size, strides=strides, padding="same", use_bias=False)(x)
    x = L.BatchNormalization(momentum=0.9)(x)
    return L.ReLU()(x)


def _head(x: Any) -> Any:
    """The 7x7 stage and classifier shared by both ``default`` recipes: conv 128, dense 128, logits."""
    from keras import layers as L

    x = _block(x, 128)
    x = L.Flatten()(x)
    x = L.Dropout(0.4)(x)
    x = L.Dense(128, use_bias=False)(x)
    x = L.BatchNormalization(momentum=0.9)(x)
    x = L.ReLU()(x)
    x = L.Dropout(0.3)(x)
    return L.Dense(NUM_CLASSES)(x)


def _default() -> Any:
    """Our recipe: strided conv blocks with batch norm, dropout, a 128-unit head (~0.94 M parameters).

    Sized for throughput on a 2-core CPU: strided convolutions replace pooling, so
    the expensive 3x3 convs see 14x14 and 7x7 maps only (about 10 M multiply-adds
    per digit, against 16 M for ``default_v1``).
    """
    import keras
    from keras import layers as L

    inputs = keras.Input(INPUT_SHAPE)
    x = _block(inputs, 32, 5, strides=2)  # 14x14
    x = _block(x, 64)
    x = _block(x, 64, strides=2)  # 7x7
    x = L.Dropout(0.15)(x)
    outputs = _head(x)
    return keras.Model(inputs, outputs, name="default")


def _default_v1() -> Any:
    """Our first recipe (shipped until 2026-11-21): the 14x14 stage runs two full 3x3 convs (~0.94 M parameters).

    Sized for speed on a 2-core CPU: the 28x28 stage has a single 5x5 conv; the
    expensive 3x3 convs work at 14x14 and 7x7.
    """
    import keras
    from keras import layers as L

    inputs = keras.Input(INPUT_SHAPE)
    x = _block(inputs, 32, 5)
    x = L.MaxPooling2D()(x)
    x = _block(x, 64)
    x = _block(x, 64)
    x = L.MaxPooling2D()(x)
    x = L.Dropout(0.15)(x)
    outputs = _head(x)
    return keras.Model(inputs, outputs, name="default_v1")


def _mlp() -> Any:
    """A feed-forward baseline: 784-256-128-10."""
    import keras
    from keras import layers as L

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            L.Flatten(),
            L.Dense(256, activation="relu"),
            L.Dropout(0.2),
            L.Dense(128, activation="relu"),
            L.Dense(NUM_CLASSES),
        ],
        name="mlp",
    )


ARCHITECTURES: dict[str, Callable[[], Any]] = {
    "seed003": _seed003, "default": _default, "default_v1": _default_v1, "mlp": _mlp,
}


def build(name: str) -> Any:
    """Build an untrained Keras model (logits output) by architecture name."""
    try:
        return ARCHITECTURES[name]()
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(ARCHITECTURES)}") from None
