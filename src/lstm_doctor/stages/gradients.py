"""The probe's gradients: a compiled function giving a model's loss and gradients on a probe
batch as its weights stand (no update), traced once per architecture in a process, and the
gradient norms the doctor reads from them. Shared by the pipeline's monitor and the users'
callback; Keras is already loaded by whoever calls (this module sets no environment).
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from typing import Any

import keras
import numpy as np


def gradient_record(model: keras.Model, loss: Any, grads: list[Any]) -> dict[str, float]:
    """The probe's loss and gradient norms: in all (`grad_norm`), per layer
    (`grad_norm/<layer>`), and the first LSTM layer's against the output layer's
    (`grad_ratio/<lstm>`; the output is the last layer with weights, `output` in the
    pipeline's models).

    A gradient that is not a number is recorded as infinite: in a monitor frame NaN means
    "not probed this epoch" (probe_cadence), and an exploded gradient must not read as that.
    """
    record: dict[str, float] = {"probe_loss": float(keras.ops.convert_to_numpy(loss))}
    layer_grad: dict[str, float] = {}
    for variable, grad in zip(model.trainable_variables, grads, strict=True):
        layer = layer_of(model.name, variable.path)
        g = float(np.sum(np.square(keras.ops.convert_to_numpy(grad)))) if grad is not None else 0.0
        g = np.inf if np.isnan(g) else g
        layer_grad[layer] = layer_grad.get(layer, 0.0) + g
    record["grad_norm"] = float(np.sqrt(sum(layer_grad.values())))
    for layer, g in layer_grad.items():
        record[f"grad_norm/{layer}"] = float(np.sqrt(g))
    lstm_layers = [name for name in layer_grad if name.startswith("lstm")]
    output = "output" if "output" in layer_grad else next(reversed(layer_grad), None)
    if lstm_layers and output and output != lstm_layers[0] and layer_grad[output] > 0:
        record[f"grad_ratio/{lstm_layers[0]}"] = float(
            np.sqrt(layer_grad[lstm_layers[0]] / layer_grad[output])
        )
    return record


# Compiled probe functions by model architecture and loss, the most recent few. Tracing an
# LSTM's gradient costs this process about 0.2 s of CPU (as much as a dozen training steps,
# a tenth of a short epoch); eager gradients would cost ~10x more every epoch. One trace
# serves every model alike that this process trains: a sweep's or a proof's worker, a
# benchmark's repeats.
_PROBES: OrderedDict[str, Any] = OrderedDict()
KEPT_PROBES = 8


def probe_function(model: keras.Model) -> Any:
    """`f(x, y) -> (loss, gradients)` on `model` as it stands (no update, training=False),
    compiled once for all the models of this architecture and loss."""
    import tensorflow as tf

    template = model

    def traced(trainable: list, non_trainable: list, x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            with _on_weights(template, trainable, non_trainable):
                predictions = template(x, training=False)
                loss = template.compute_loss(x=x, y=y, y_pred=predictions)
        return loss, tape.gradient(loss, trainable)

    key = _architecture(model)
    if key is None:
        return _bound(tf.function(traced), model)
    return _bound(_kept(_PROBES, key, lambda: tf.function(traced)), model)


# Compiled forward passes by architecture: Keras traces a predict function for every new
# model (~0.15 s of CPU), which a process fitting many alike (a proof, a notebook's reruns)
# would pay on every fit for the probe's loss and the diagnosis' predictions.
_FORWARDS: OrderedDict[str, Any] = OrderedDict()


def forward_function(model: keras.Model) -> Any | None:
    """`f(x) -> predictions` of `model` as it stands (training=False), compiled once for all
    the models of this architecture; None for a model whose architecture its layers do not
    tell (its own predict function serves then)."""
    import tensorflow as tf

    key = _architecture(model)
    if key is None:
        return None
    template = model

    def traced(trainable: list, non_trainable: list, x: Any) -> Any:
        with _on_weights(template, trainable, non_trainable):
            return template(x, training=False)

    # Batches of other sizes (a split's last) share one trace once a second size comes.
    return _bound(_kept(_FORWARDS, key, lambda: tf.function(traced, reduce_retracing=True)), model)


def _on_weights(template: keras.Model, trainable: list, non_trainable: list) -> Any:
    """A scope in which `template`'s graph runs on the weights given, not its own (the way
    Keras' stateless trainers run a model): the weights are the compiled function's inputs."""
    mapping = list(zip(template.trainable_variables, trainable, strict=True))
    mapping += list(zip(template.non_trainable_variables, non_trainable, strict=True))
    return keras.StatelessScope(state_mapping=mapping)


def _kept(cache: OrderedDict[str, Any], key: str, make: Any) -> Any:
    """`cache[key]`, made by `make()` the first time; the KEPT_PROBES most recent kept."""
    if key not in cache:
        cache[key] = make()
        while len(cache) > KEPT_PROBES:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return cache[key]


# Each model's compiled forward pass, looked up once per model.
_FORWARD_OF: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def predict_on_batch(model: keras.Model, x: Any) -> Any:
    """`model.predict_on_batch(x)` (TensorFlow), by a forward pass compiled once per
    architecture in this process, not a predict function traced for every new model."""
    if model not in _FORWARD_OF:
        try:
            _FORWARD_OF[model] = forward_function(model)
        except Exception:  # not a model this can read: its own predict function serves
            _FORWARD_OF[model] = None
    forward = _FORWARD_OF.get(model)
    if forward is not None:
        try:
            out = forward(x)
        except Exception:  # a model the stateless pass cannot run: its own predict serves
            _FORWARD_OF[model] = None
        else:
            return keras.ops.convert_to_numpy(out) if keras.ops.is_tensor(out) else out
    return model.predict_on_batch(x)


def forward_loss(model: keras.Model, x: Any, y: Any) -> float:
    """`model`'s compiled loss on (x, y) as it stands, from the forward pass alone (a third
    of a probe's cost, where no gradient is needed)."""
    predicted = keras.ops.convert_to_tensor(predict_on_batch(model, x))
    return float(keras.ops.convert_to_numpy(model.compute_loss(x=x, y=y, y_pred=predicted)))


def _bound(compiled: Any, model: keras.Model) -> Any:
    """The compiled function fed `model`'s weights as they are at each call."""

    def call(*args: Any) -> Any:
        trainable = [keras.ops.convert_to_tensor(v) for v in model.trainable_variables]
        fixed = [keras.ops.convert_to_tensor(v) for v in model.non_trainable_variables]
        return compiled(trainable, fixed, *args)

    return call


def _architecture(model: keras.Model) -> str | None:
    """A stack's input, layers (their configs, names aside: Keras numbers them per model)
    and loss; None for a model whose graph its layers do not tell (not a Sequential) or
    whose loss is an object (a function or a Loss instance: two may differ, print alike)."""
    if not isinstance(model, keras.Sequential) or not isinstance(model.loss, str):
        return None
    layers = []
    for layer in model.layers:
        config = {k: v for k, v in layer.get_config().items() if k != "name"}
        layers.append([type(layer).__name__, config])
    inputs = [list(model.inputs[0].shape), str(model.inputs[0].dtype)]
    return json.dumps([inputs, layers, model.loss], default=str)


def layer_of(model_name: str, path: str) -> str:
    """The layer a variable belongs to, from its path (`model/lstm/kernel` or `lstm/kernel`)."""
    parts = path.split("/")
    return parts[1] if parts[0] == model_name and len(parts) > 2 else parts[0]
