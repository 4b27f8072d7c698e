"""Training monitors: gradient norms, the probe batch's loss and update/weight ratios, once
an epoch.

Measuring on one fixed batch per epoch (not every step) keeps the cost to one extra
forward and backward pass per epoch. The probe's loss is also taken before the first
update, so "did it learn?" is measured from the untrained model, not from the first epoch's
average (a model can learn most of what it will within its first epoch).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import numpy as np

from lstm_doctor.stages import keras_env as backend  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras


class GradientMonitor(keras.callbacks.Callback):
    """Per epoch: global and per-layer gradient norms, the first LSTM layer's gradient
    relative to the output layer's, the probe batch's loss (and, in the first record,
    `probe_loss_initial` before any update and `probe_loss_constant`, the loss of the best
    input-blind answer), each layer's update/weight ratio over the epoch
    (`update_ratio/`) and over the epoch's first optimiser step (`step_ratio/`).

    Results accumulate in `records` (one dict an epoch) and go to `sink(metrics, epoch)`.
    """

    def __init__(self, probe: tuple[np.ndarray, np.ndarray], sink: Any = None) -> None:
        super().__init__()
        self.probe = probe
        self.sink = sink
        self.records: list[dict[str, float]] = []
        self._before: dict[str, np.ndarray] = {}
        self._initial_loss: float | None = None
        self._constant_loss: float | None = None
        self._step_ratio: dict[str, float] = {}
        self._first_step_pending = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._probe_gradients = probe_function(self.model)
        x, y = self.probe
        loss, _ = self._probe_gradients(x, y)
        self._initial_loss = float(keras.ops.convert_to_numpy(loss))
        self._constant_loss = self._loss_of_a_constant(y)

    def _loss_of_a_constant(self, y: np.ndarray) -> float:
        """The probe's loss for the best answer that ignores the input: the mean of each
        output (regression), or the classes' frequencies (softmax). A model whose loss stays
        near it has learned nothing from its inputs, whatever the loss' scale."""
        y = np.asarray(y)
        outputs = int(self.model.output_shape[-1])
        if np.issubdtype(y.dtype, np.integer) or (y.ndim == 1 and outputs > 1):
            counts = np.bincount(y.astype(int).ravel(), minlength=outputs)[:outputs] + 1e-3
            constant = np.tile(counts / counts.sum(), (len(y), 1))
        else:
            constant = np.broadcast_to(y.mean(axis=0, keepdims=True), y.shape)
        loss = self.model.compute_loss(
            x=None, y=y, y_pred=keras.ops.convert_to_tensor(constant.astype("float32"))
        )
        return float(keras.ops.convert_to_numpy(loss))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._before = {
            v.path: keras.ops.convert_to_numpy(v) for v in self.model.trainable_variables
        }
        self._first_step_pending = True

    # One optimiser step's relative size, once an epoch: the rule of thumb for a healthy step
    # (~1e-3 of the weights' norm) is about a step, not an epoch of them. The first step is
    # measured when the second begins (or at the epoch's end, after a single step): a hook
    # on every batch's end would be called, and its logs read, on every batch.
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if batch > 0 and self._first_step_pending:
            self._first_step_pending = False
            self._step_ratio = self._update_ratios()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._first_step_pending:
            self._first_step_pending = False
            self._step_ratio = self._update_ratios()
        x, y = self.probe
        variables = self.model.trainable_variables
        loss, grads = self._probe_gradients(x, y)
        record: dict[str, float] = {"probe_loss": float(keras.ops.convert_to_numpy(loss))}
        if epoch == 0 and self._initial_loss is not None:
            record["probe_loss_initial"] = self._initial_loss
        if epoch == 0 and self._constant_loss is not None:
            record["probe_loss_constant"] = self._constant_loss
        layer_grad: dict[str, float] = {}
        total = 0.0
        for variable, grad in zip(variables, grads, strict=True):
            layer = _layer(self.model.name, variable.path)
            g = (
                float(np.sum(np.square(keras.ops.convert_to_numpy(grad))))
                if grad is not None
                else 0.0
            )
            total += g
            layer_grad[layer] = layer_grad.get(layer, 0.0) + g
        record["grad_norm"] = float(np.sqrt(total))
        for layer, g in layer_grad.items():
            record[f"grad_norm/{layer}"] = float(np.sqrt(g))
        for layer, ratio in self._update_ratios().items():
            record[f"update_ratio/{layer}"] = ratio
        for layer, ratio in self._step_ratio.items():
            record[f"step_ratio/{layer}"] = ratio
        lstm_layers = [name for name in layer_grad if name.startswith("lstm")]
        if lstm_layers and "output" in layer_grad and layer_grad["output"] > 0:
            record[f"grad_ratio/{lstm_layers[0]}"] = float(
                np.sqrt(layer_grad[lstm_layers[0]] / layer_grad["output"])
            )
        self.records.append(record)
        if self.sink is not None:
            self.sink(record, epoch)

    def _update_ratios(self) -> dict[str, float]:
        """Each layer's change since the epoch began over its weights' norm, all its
        variables together (a zero-initialised bias alone would make any step look huge)."""
        change: dict[str, float] = {}
        size: dict[str, float] = {}
        for variable in self.model.trainable_variables:
            before = self._before.get(variable.path)
            if before is None:
                continue
            now = keras.ops.convert_to_numpy(variable)
            layer = _layer(self.model.name, variable.path)
            change[layer] = change.get(layer, 0.0) + float(np.sum(np.square(now - before)))
            size[layer] = size.get(layer, 0.0) + float(np.sum(np.square(now)))
        return {layer: float(np.sqrt(change[layer] / (size[layer] or 1.0))) for layer in change}


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

    key = _architecture(model)
    if key is None or key not in _PROBES:
        template = model

        def traced(trainable: list, non_trainable: list, x: Any, y: Any) -> Any:
            # The template's graph run on this model's weights (the way Keras' stateless
            # trainers run a model): the weights are inputs, not the template's own.
            mapping = list(zip(template.trainable_variables, trainable, strict=True))
            mapping += list(zip(template.non_trainable_variables, non_trainable, strict=True))
            with tf.GradientTape() as tape:
                tape.watch(trainable)
                with keras.StatelessScope(state_mapping=mapping):
                    predictions = template(x, training=False)
                    loss = template.compute_loss(x=x, y=y, y_pred=predictions)
            return loss, tape.gradient(loss, trainable)

        compiled = tf.function(traced)
        if key is None:
            return _bound(compiled, model)
        _PROBES[key] = compiled
        while len(_PROBES) > KEPT_PROBES:
            _PROBES.popitem(last=False)
    _PROBES.move_to_end(key)
    return _bound(_PROBES[key], model)


def _bound(compiled: Any, model: keras.Model) -> Any:
    """The compiled probe fed `model`'s weights as they are at each call."""

    def probe(x: Any, y: Any) -> Any:
        trainable = [keras.ops.convert_to_tensor(v) for v in model.trainable_variables]
        fixed = [keras.ops.convert_to_tensor(v) for v in model.non_trainable_variables]
        return compiled(trainable, fixed, x, y)

    return probe


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


def _layer(model_name: str, path: str) -> str:
    """The layer a variable belongs to, from its path (`model/lstm/kernel` or `lstm/kernel`)."""
    parts = path.split("/")
    return parts[1] if parts[0] == model_name and len(parts) > 2 else parts[0]
