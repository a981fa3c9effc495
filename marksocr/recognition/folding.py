"""Inference-time batch-norm folding: merge each BatchNormalization into the layer before it.

At inference a batch norm is a fixed per-channel scale and shift, so it can be
folded into the preceding convolution's kernel and bias. The network then runs
one op per block instead of three, with the same outputs up to float rounding.
Dropout layers, which do nothing at inference, are dropped too.

Only simple chains (each layer feeding the next) are folded; anything else, or a
folded copy whose outputs differ from the original, leaves the model as it is.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Largest difference in logits we accept between the folded and original network.
TOLERANCE = 1e-3


def fold_batchnorm(model: Any) -> Any:
    """A copy of ``model`` with batch norms folded into their conv/dense layers, or ``model`` itself."""
    try:
        folded = _fold_chain(model)
    except _NotAChain as exc:
        log.debug("not folding %s: %s", model.name, exc)
        return model
    if folded is None:
        return model
    probe = np.random.default_rng(0).random((16, *model.input_shape[1:]), dtype=np.float32)
    diff = float(np.max(np.abs(np.asarray(model(probe, training=False)) - np.asarray(folded(probe, training=False)))))
    if diff > TOLERANCE:
        log.warning("batch-norm folding changed %s's outputs by %.2g; using the unfolded network", model.name, diff)
        return model
    return folded


class _NotAChain(Exception):
    pass


def _chain(model: Any) -> list[Any]:
    """The model's layers in order, checking that each one feeds only the next."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    previous = model.inputs[0]
    for layer in layers:
        if len(layer._inbound_nodes) != 1:
            raise _NotAChain(f"{layer.name} is called more than once")
        inputs = layer._inbound_nodes[0].input_tensors
        if len(inputs) != 1 or inputs[0] is not previous:
            raise _NotAChain(f"{layer.name} does not take the previous layer's output")
        previous = layer.output
    return layers


def _fold_chain(model: Any) -> Any | None:
    import keras
    from keras import layers as L

    layers = _chain(model)
    if not any(isinstance(layer, L.BatchNormalization) for layer in layers):
        return None
    x = inputs = keras.Input(model.input_shape[1:])
    i = 0
    while i < len(layers):
        layer = layers[i]
        following = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, L.Dropout):
            i += 1
            continue
        if isinstance(layer, (L.Conv2D, L.Dense)) and isinstance(following, L.BatchNormalization) and _foldable(layer, following):
            x = _folded_layer(layer, following)(x)
            i += 2
            continue
        if isinstance(layer, L.BatchNormalization):
            raise _NotAChain(f"{layer.name} does not follow a conv or dense layer")
        clone = type(layer).from_config(layer.get_config())
        x = clone(x)
        clone.set_weights(layer.get_weights())
        i += 1
    return keras.Model(inputs, x, name=f"{model.name}_folded")


def _foldable(layer: Any, bn: Any) -> bool:
    """A batch norm over the channel axis after a layer without its own activation."""
    axis = bn.axis if isinstance(bn.axis, int) else (bn.axis[0] if len(bn.axis) == 1 else None)
    return layer.get_config().get("activation") == "linear" and axis in (-1, len(bn.input.shape) - 1)


def _folded_layer(layer: Any, bn: Any) -> Any:
    """``layer`` followed by ``bn``, as one layer with a bias."""
    weights = layer.get_weights()
    kernel = weights[0]
    bias = weights[1] if layer.use_bias else np.zeros(kernel.shape[-1], np.float32)
    params = dict(zip(_bn_names(bn), bn.get_weights()))
    gamma = params.get("gamma", np.ones_like(params["moving_mean"]))
    beta = params.get("beta", np.zeros_like(params["moving_mean"]))
    scale = gamma / np.sqrt(params["moving_variance"] + bn.epsilon)
    config = {**layer.get_config(), "use_bias": True, "name": f"{layer.name}_bn"}
    folded = type(layer).from_config(config)
    folded.build(layer.input.shape)
    folded.set_weights([(kernel * scale).astype(np.float32), ((bias - params["moving_mean"]) * scale + beta).astype(np.float32)])
    return folded


def _bn_names(bn: Any) -> list[str]:
    """Names of a BatchNormalization layer's weights, in ``get_weights()`` order."""
    names = []
    if bn.scale:
        names.append("gamma")
    if bn.center:
        names.append("beta")
    return [*names, "moving_mean", "moving_variance"]
