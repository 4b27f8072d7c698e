"""`DoctorCallback`: the doctor inside a user's own `model.fit(..., callbacks=[doctor])`.

Records the curves, the optimiser's step (the update/weight ratio over each epoch's first
step, from weight snapshots: any backend) and, when handed the arrays, the loss of a small
probe batch before any update and, on the epochs the probe's cadence picks
(stages/probe_cadence), its loss and gradients since; at the end of fit writes
diagnosis.json/.md/.html. Nothing here can stop the user's training: any failure is one
warning line and the fit goes on.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import keras
import numpy as np
import pandas as pd

from lstm_doctor.doctor.script import ACCURACY_ALIASES, ScriptRun, check_hints
from lstm_doctor.keras import facts
from lstm_doctor.keras.finish import active_mlflow_run, finish
from lstm_doctor.stages.probe_cadence import ProbeCadence

PROBE = 256  # windows in the probe batch: one forward pass an epoch


class DoctorCallback(keras.callbacks.Callback):
    """Diagnose this fit when it ends; `diagnosis` then holds the diagnosis.json dict.

    Args:
        x_train, y_train: the training arrays (optional: without them the curves and the
            optimiser's step are still diagnosed).
        validation_data: (x_val, y_val), as given to fit.
        validation_split: as given to fit (Keras holds out the last samples: so does this).
        out_dir: where the three files go (default a new folder under ./lstm-doctor/).
        target_index: the input feature that is the target (found when windows overlap).
        season: the season in steps, for seasonal naive.
        task: "forecast" or "classify" (told from the targets and the loss otherwise).
    """

    def __init__(
        self,
        x_train: Any = None,
        y_train: Any = None,
        validation_data: Any = None,
        validation_split: float | None = None,
        out_dir: str | None = None,
        target_index: int | None = None,
        season: int | None = None,
        task: str | None = None,
    ) -> None:
        super().__init__()
        # A hint the doctor would misread is the user's own argument: refused here, before fit.
        check_hints(target_index, season, task)
        self.diagnosis: dict[str, Any] | None = None
        self.out_dir, self.target_index, self.season, self.task = (
            out_dir,
            target_index,
            season,
            task,
        )
        self.batch_size: int | None = None
        self.early_stopping = False
        self._failed = False
        self.arrays: dict[str, np.ndarray | None] = {}
        self._guard(self._set_arrays, x_train, y_train, validation_data, validation_split)

    def _set_arrays(self, x: Any, y: Any, validation_data: Any, split: float | None) -> None:
        self.arrays = facts.split_arrays(x, y, validation_data, split)

    def _guard(self, fn: Any, *args: Any) -> None:
        """Run one of the doctor's steps; a failure is one warning, never the user's error."""
        if self._failed:
            return
        try:
            fn(*args)
        except Exception as exc:
            self._failed = fn.__name__ != "_set_arrays"
            warnings.warn(f"lstm-doctor: {exc}; the fit goes on", stacklevel=2)
            if fn.__name__ == "_set_arrays":
                self.arrays = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epochs: list[dict[str, float]] = []
        self.records: list[dict[str, float]] = []
        self._measure = False
        self._answers: tuple[np.ndarray, np.ndarray] | None = None
        self._gradients: Any = None
        epochs = (self.params or {}).get("epochs")
        self._cadence = ProbeCadence(last_epoch=epochs - 1 if epochs else None)
        self._started = time.perf_counter()
        self._guard(self._begin)

    def _begin(self) -> None:
        x, y = self.arrays.get("x_train"), self.arrays.get("y_train")
        self._probe = (x[:PROBE], y[:PROBE]) if x is not None and y is not None else None
        self._initial = facts.probe_loss(self.model, *self._probe) if self._probe else None
        self._constant = facts.constant_loss(self.model, self._probe[1]) if self._probe else None
        # A classifier is judged slow on its answers, not its cross-entropy (which falls for
        # ever on separable data): where the fit logs no validation accuracy, the doctor
        # measures it on up to PROBE validation sequences, on the probe's compiled predict.
        xv, yv = self.arrays.get("x_val"), self.arrays.get("y_val")
        task = self.task or facts.task_from_loss(self.model)
        if task == "classify" and xv is not None and yv is not None:
            self._answers = (xv[:PROBE], yv[:PROBE])
        if self._probe is not None and keras.backend.backend() == "tensorflow":
            self._begin_gradients()

    def _begin_gradients(self) -> None:
        """The gradient probe (TensorFlow only): one batch of the fit's size, the cost of one
        training step an epoch. A model it cannot trace is left unprobed, said so."""
        from lstm_doctor.stages.gradients import probe_function

        size = min(self.batch_size or 32, len(self._probe[0]))
        self._grad_probe = (self._probe[0][:size], self._probe[1][:size])
        try:
            self._gradients = probe_function(self.model)
        except Exception:
            self._gradients = None

    # The epoch's first step is measured between its start and the next batch's start (or
    # the epoch's end, after a single step): no hook on a batch's end, so Keras keeps
    # dispatching the batches' end to its background thread as in a fit without the doctor.
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._measure = False
        self._started = time.perf_counter()
        self._guard(self._snapshot)

    def _snapshot(self) -> None:
        self._before = facts.weights(self.model)
        self._measure = True

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self._measure and batch > 0:
            self._measure = False
            self._guard(self._step)

    def _step(self) -> None:
        self._ratios = facts.step_ratios(self._before, facts.weights(self.model))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._measure:
            self._measure = False
            self._guard(self._step)
        self._guard(self._record, epoch, dict(logs or {}))

    def _record(self, epoch: int, logs: dict[str, Any]) -> None:
        self.epochs.append({k: float(np.asarray(v)) for k, v in logs.items()})
        logged = {f"val_{name}" for name in ("accuracy", *ACCURACY_ALIASES)}
        if self._answers is not None and not (logged & logs.keys()):
            batch = len(self._probe[0]) if self._probe is not None else len(self._answers[0])
            self.epochs[-1]["val_accuracy"] = facts.accuracy(self.model, *self._answers, batch)
        record = {f"step_ratio/{k}": v for k, v in getattr(self, "_ratios", {}).items()}
        loss = logs.get("loss")
        seconds = time.perf_counter() - self._started
        due = self._cadence.due(epoch, seconds, None if loss is None else float(np.asarray(loss)))
        if self._probe is not None and due:
            started = time.perf_counter()
            if self._gradients is not None:
                record.update(self._gradient_norms())
            record["probe_loss"] = facts.probe_loss(self.model, *self._probe)
            self._cadence.spent(time.perf_counter() - started)
        if self._probe is not None and not self.records:
            record["probe_loss_initial"] = self._initial
            record["probe_loss_constant"] = self._constant
        self.records.append(record)

    def _gradient_norms(self) -> dict[str, float]:
        from lstm_doctor.stages.gradients import gradient_record

        try:
            found = gradient_record(self.model, *self._gradients(*self._grad_probe))
        except Exception:  # not this model's: the rest of the watch goes on without it
            self._gradients = None
            return {}
        return {k: v for k, v in found.items() if k != "probe_loss"}

    def on_train_end(self, logs: dict | None = None) -> None:
        self._guard(self._finish)

    def _finish(self) -> None:
        run = self.script_run()
        self.diagnosis = finish(run, self.out_dir, log_to=run.mlflow_run_id)

    def _monitors(self) -> pd.DataFrame:
        """The per-epoch records: NaN where an epoch was not probed (or the probe failed part
        way), which the checks read as not measured."""
        return pd.DataFrame(self.records)

    def script_run(self) -> ScriptRun:
        """What this fit showed, as the doctor's script adapter takes it."""
        history = pd.DataFrame(self.epochs)
        arrays = self.arrays
        predicted = None
        if arrays.get("x_val") is not None:
            probe = getattr(self, "_probe", None)
            batch = len(probe[0]) if probe is not None and len(probe[0]) else PROBE
            predicted = facts.predictions(self.model, arrays["x_val"], batch)
        epochs = int(self.params.get("epochs") or len(history))
        seen = facts.seen_inputs(self.model, arrays.get("x_train"))
        return ScriptRun(
            history=history,
            **{k: arrays.get(k) for k in ("x_train", "y_train", "x_val", "y_val")},
            predicted=predicted,
            monitors=self._monitors(),
            batch_size=self.batch_size,
            epochs=epochs,
            task=self.task or facts.task_from_loss(self.model),
            target_index=self.target_index,
            season=self.season,
            # Fewer epochs than asked for: a callback stopped the fit (early stopping).
            early_stopping=self.early_stopping or len(history) < epochs,
            live=True,
            mlflow_run_id=active_mlflow_run(),
            x_seen=seen[0] if seen else None,
            scaled_by=seen[1] if seen else None,
            **facts.optimizer_and_units(self.model),
        )
