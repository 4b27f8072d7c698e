"""Training monitors: gradient norms and the probe batch's loss, on the epochs the probe's
cadence picks, and update/weight ratios every epoch.

Measuring on one fixed batch (not every step) keeps a probe to one extra forward and
backward pass; the cadence (probe_cadence) keeps the probes to the first epochs, the last,
any whose loss surges, and a sample between, within a share of the fit's time. The probe's
loss is also taken before the first update, so "did it learn?" is measured from the
untrained model, not from the first epoch's average (a model can learn most of what it will
within its first epoch).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from lstm_doctor.stages import keras_env as backend  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras

from lstm_doctor.stages.gradients import (
    forward_loss,
    gradient_record,
    layer_of,
    probe_function,
)
from lstm_doctor.stages.probe_cadence import ProbeCadence


class GradientMonitor(keras.callbacks.Callback):
    """Per epoch: each layer's update/weight ratio over the epoch (`update_ratio/`) and over
    the epoch's first optimiser step (`step_ratio/`). On the epochs the cadence probes: global
    and per-layer gradient norms, the first LSTM layer's gradient relative to the output
    layer's and the probe batch's loss (and, in the first record, `probe_loss_initial` before
    any update and `probe_loss_constant`, the loss of the best input-blind answer).

    Results accumulate in `records` (one dict an epoch, the probe's keys absent where it did
    not run) and go to `sink(metrics, epoch)`.
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
        epochs = (self.params or {}).get("epochs")
        self.cadence = ProbeCadence(last_epoch=epochs - 1 if epochs else None)
        x, y = self.probe
        self._initial_loss = forward_loss(self.model, x, y)
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
        self._started = time.perf_counter()
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
        loss = (logs or {}).get("loss")
        record: dict[str, float] = {}
        seconds = time.perf_counter() - self._started
        if self.cadence.due(epoch, seconds, None if loss is None else float(loss)):
            started = time.perf_counter()
            record = gradient_record(self.model, *self._probe_gradients(*self.probe))
            self.cadence.spent(time.perf_counter() - started)
        if epoch == 0 and self._initial_loss is not None:
            record["probe_loss_initial"] = self._initial_loss
        if epoch == 0 and self._constant_loss is not None:
            record["probe_loss_constant"] = self._constant_loss
        for layer, ratio in self._update_ratios().items():
            record[f"update_ratio/{layer}"] = ratio
        for layer, ratio in self._step_ratio.items():
            record[f"step_ratio/{layer}"] = ratio
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
            layer = layer_of(self.model.name, variable.path)
            change[layer] = change.get(layer, 0.0) + float(np.sum(np.square(now - before)))
            size[layer] = size.get(layer, 0.0) + float(np.sum(np.square(now)))
        return {layer: float(np.sqrt(change[layer] / (size[layer] or 1.0))) for layer in change}
