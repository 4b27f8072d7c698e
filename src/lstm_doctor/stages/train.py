"""Stage train: build the LSTM from config and fit it on lazily gathered windows.

Reads scaled/ and windows/; writes models/model.keras, models/history.csv (the losses and
`epoch_seconds` per epoch), monitors.csv, models/fit_sizes.json (the batch and patience the
data's size resolved) and models/run.json (the id of the MLflow run its caller opened,
which evaluate adds to).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from lstm_doctor.stages import keras_env  # noqa: F401  (sets Keras' environment before it loads)

# isort: split

import keras
import pandas as pd

from lstm_doctor.base.errors import DoctorError
from lstm_doctor.base.metrics import batches
from lstm_doctor.base.workspace import (
    FIT_SIZES,
    HISTORY_FILE,
    MODEL_FILE,
    MONITORS_FILE,
    RUN_FILE,
    StagePaths,
    atomic_dir,
    write_json,
)
from lstm_doctor.config import Config, ModelConfig, OptimizerConfig, TrainingConfig
from lstm_doctor.config.optimizers import OPTIMIZERS
from lstm_doctor.config.sizing import FitSizes, fit_sizes
from lstm_doctor.stages.monitor import GradientMonitor
from lstm_doctor.stages.window import Windows, load_windows


class WindowBatches(keras.utils.PyDataset):
    """Keras-facing view of `Windows`: one gathered batch per index, reshuffled each epoch."""

    def __init__(
        self,
        windows: Windows,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        max_batches: int | None = None,
    ) -> None:
        super().__init__()
        self.windows = windows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(windows))
        self.max_batches = max_batches
        if shuffle:
            self.rng.shuffle(self.order)

    def __len__(self) -> int:
        return batches(len(self.windows), self.batch_size, self.max_batches)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        positions = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.windows.batch(positions)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.rng.shuffle(self.order)


def build_model(
    cfg: ModelConfig, input_shape: tuple[int, int], outputs: int, task: str
) -> keras.Model:
    """A stack of LSTM layers and a dense head: regression of `outputs` steps or softmax."""
    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape)]
    for i in range(cfg.layers):
        layers.append(
            keras.layers.LSTM(
                cfg.units,
                activation=cfg.activation,
                recurrent_activation=cfg.recurrent_activation,
                kernel_initializer=cfg.kernel_initializer,
                recurrent_initializer=cfg.recurrent_initializer,
                dropout=cfg.dropout,
                recurrent_dropout=cfg.recurrent_dropout,
                unroll=cfg.unroll,
                return_sequences=i < cfg.layers - 1,
                name=f"lstm_{i}",
            )
        )
        if cfg.layer_dropout:
            layers.append(keras.layers.Dropout(cfg.layer_dropout, name=f"dropout_{i}"))
    if cfg.dense_units:
        layers.append(keras.layers.Dense(cfg.dense_units, activation="relu", name="dense_hidden"))
    activation = "softmax" if task == "classify" else None
    layers.append(keras.layers.Dense(outputs, activation=activation, name="output"))
    return keras.Sequential(layers, name="lstm_doctor")


def make_optimizer(cfg: OptimizerConfig) -> keras.optimizers.Optimizer:
    """The configured optimizer with its learning rate, momentum and clipping."""
    spec = OPTIMIZERS[cfg.name]
    options: dict[str, Any] = {"learning_rate": cfg.lr}
    if cfg.clipnorm:
        options["clipnorm"] = cfg.clipnorm
    if spec.momentum:
        options["momentum"] = cfg.momentum
    return getattr(keras.optimizers, spec.keras_class)(**options)


class EpochSeconds(keras.callbacks.Callback):
    """Each epoch's wall time (its batches and validation) as `epoch_seconds` in the epoch's
    logs, so the history (history.csv) and the MLflow curves carry it beside the losses."""

    started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self.started


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' NaN guard, dispatched off the training thread. A callback reading every
    batch's logs makes Keras run all the batches' ends in line with training, the logs
    converted on the training thread (~0.7% of a fit); async, the stop comes a batch or two
    later, which changes nothing a diverged run keeps (its history ends at the NaN epoch)."""

    async_safe = True


def at_epoch_end(check: Callable[[], None]) -> keras.callbacks.Callback:
    """A callback that calls `check` at each epoch's end (it may raise to end the fit)."""
    return keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: check())


def fit_callbacks(cfg: TrainingConfig, sizes: FitSizes) -> list[keras.callbacks.Callback]:
    """The epoch timer, the NaN guard, early stopping and learning-rate reduction, as
    configured, with the patience resolved for the data's size (`sizes`)."""
    # The timer first: Keras hands every callback the same logs, in order (its History last),
    # so all that follow it, the MLflow epoch logger too, see the epoch's seconds.
    callbacks: list[keras.callbacks.Callback] = [EpochSeconds(), StopOnNaN()]
    es = cfg.early_stopping
    if es.enabled:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=es.monitor,
                patience=sizes.early_stopping_patience,
                min_delta=es.min_delta,
                restore_best_weights=es.restore_best,
            )
        )
    rl = cfg.reduce_lr
    if rl.enabled:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=rl.monitor,
                factor=rl.factor,
                patience=sizes.reduce_lr_patience,
                min_lr=rl.min_lr,
            )
        )
    return callbacks


def train(
    cfg: Config,
    windows: dict[str, Windows],
    outputs: int,
    extra_callbacks: list[keras.callbacks.Callback] | None = None,
    sizes: FitSizes | None = None,
) -> tuple[keras.Model, pd.DataFrame]:
    """Fit a fresh model on the train windows, validating on val; seeded and deterministic.
    `sizes` (the batch and patience) are resolved from the data's size when not given.

    Returns:
        The model (best weights if early stopping restores them) and the per-epoch history.
    """
    keras.utils.set_random_seed(cfg.seed)
    verbose = bool(os.environ.get("LSTM_DOCTOR_VERBOSE"))
    # Keras' own per-epoch lines on request; otherwise none (with interactive logging off
    # they would go to absl, which is kept quiet).
    if verbose:
        keras.config.enable_interactive_logging()
    else:
        keras.config.disable_interactive_logging()
    task = windows["train"].task
    model = build_model(cfg.model, windows["train"].input_shape, outputs, task)
    if task == "classify":
        model.compile(
            optimizer=make_optimizer(cfg.optimizer),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    else:
        model.compile(optimizer=make_optimizer(cfg.optimizer), loss="mse", metrics=["mae"])
    t = cfg.training
    sizes = sizes or fit_sizes(len(windows["train"]), t)
    class_weight = None
    if task == "classify" and t.class_weight == "balanced":
        labels = windows["train"].labels[windows["train"].starts]  # type: ignore[index]
        counts = np.bincount(labels, minlength=outputs)
        class_weight = {i: len(labels) / (outputs * c) for i, c in enumerate(counts) if c}
    history = model.fit(
        WindowBatches(
            windows["train"], sizes.batch_size, t.shuffle, cfg.seed, t.max_steps_per_epoch
        ),
        validation_data=WindowBatches(windows["val"], max(sizes.batch_size, 256)),
        epochs=t.epochs,
        class_weight=class_weight,
        callbacks=fit_callbacks(t, sizes) + (extra_callbacks or []),
        verbose=2 if verbose else 0,
    )
    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.arange(len(frame)))
    return model, frame


class TrainingDiverged(DoctorError):
    """The loss became NaN or infinite: the weights are useless from that epoch on. Carries
    the curves so far, for whoever owns the run to diagnose and keep."""

    def __init__(self, message: str, history: pd.DataFrame, monitors: pd.DataFrame) -> None:
        super().__init__(message)
        self.history = history
        self.monitors = monitors


MonitorSink = Callable[[dict[str, float], int], None]


def run(
    cfg: Config,
    paths: StagePaths,
    callbacks: list[keras.callbacks.Callback] | None = None,
    monitor_sink: MonitorSink | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Train and save models/: the model, its history and monitors, and the run id given.

    `callbacks` and `monitor_sink` are where the caller sends curves as they come (MLflow);
    the stage itself records nothing anywhere else.

    Returns:
        The model, the history and monitor frames, and a few test windows as an example
        input for logging the model.

    Raises:
        TrainingDiverged: when the loss became NaN or infinite (nothing is saved).
    """
    windows, meta = load_windows(paths, cfg.model.residual_to)
    outputs = len(meta["classes"]) if meta["task"] == "classify" else meta["horizon"]
    for name in ("train", "val"):
        if len(windows[name]) == 0:
            raise DoctorError(f"split '{name}' has no windows; adjust split.* or window.*")
    # Windows spread over the whole training span, not its first stretch: a probe of
    # consecutive windows sees one level of the series and a small share of its variance.
    n_train = len(windows["train"])
    sizes = fit_sizes(n_train, cfg.training)
    probe_at = np.unique(np.linspace(0, n_train - 1, min(sizes.batch_size, n_train)).astype(int))
    probe = windows["train"].batch(probe_at)
    monitor = GradientMonitor(probe, sink=monitor_sink)
    # The monitor before the caller's callbacks: its probe runs before any of them starts
    # sending the epoch to a store (a send holds the interpreter's lock the probe needs).
    model, history = train(cfg, windows, outputs, [monitor, *(callbacks or [])], sizes)
    monitors = pd.DataFrame(monitor.records)
    losses = history["loss"].to_numpy()
    if not np.isfinite(losses).all():
        epoch = int(np.argmax(~np.isfinite(losses)))
        raise TrainingDiverged(
            f"training diverged: loss is {losses[epoch]} at epoch {epoch + 1}; lower "
            "optimizer.lr, set optimizer.clipnorm=1.0, or check the data for gaps "
            "(prepare.missing)",
            history,
            monitors,
        )
    with atomic_dir(paths.models) as out:
        model.save(out / MODEL_FILE)
        history.to_csv(out / HISTORY_FILE, index=False)
        monitors.to_csv(out / MONITORS_FILE, index=False)
        write_json(out / RUN_FILE, {"run_id": run_id})
        write_json(out / FIT_SIZES, asdict(sizes))
    example, _ = windows["test"].batch(np.arange(min(4, len(windows["test"]))))
    return {
        "model": model,
        "history": history,
        "monitors": monitors,
        "example": example,
        "sizes": sizes,
    }
