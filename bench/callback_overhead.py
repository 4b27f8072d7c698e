"""What `DoctorCallback` costs a user's own `model.fit`: the same fit with and without it.

    python bench/callback_overhead.py [--data default|seasonal] [--pairs 7] [--epochs 10]

`--data default` (the default) measures it the way bench/overhead.py measures the
pipeline: the default dataset's windows (its first 8760 rows, as numpy arrays) and the
default model (conf/), a ~10 s fit. `--data seasonal` is a short fit (~3 s): a seasonal
series in numpy windows (examples/series.py, `--windows` of them) and a Keras LSTM(32), where
the doctor's fixed costs (its start, its diagnosis) weigh three times as much. Each pair runs
the plain fit and the fit with the doctor (handed the arrays, as users are told to),
alternating, same seed; `fit` with validation data. Prints each pair's ratio, the median
(in wall time, and the CPU ratio: the steadier on a shared machine), and how the doctor's
time splits: its per-epoch watch (snapshots of the weights around one step, the probe
batch's loss and gradients on the epochs its cadence picks) and its diagnosis when the fit
ends (predictions and baselines on the user's arrays, the three files).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))  # the examples' own data helpers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--windows", type=int, default=6000, help="--data seasonal only")
    parser.add_argument("--data", choices=("default", "seasonal"), default="default")
    args = parser.parse_args()

    import keras

    from lstm_doctor.keras import DoctorCallback

    store = tempfile.mkdtemp(prefix="callback-overhead-")
    x, y, xv, yv, make_model, batch_size = (
        default_case(store) if args.data == "default" else seasonal_case(args.windows)
    )

    class TimedDoctor(DoctorCallback):
        """The doctor, with the seconds of its end-of-fit diagnosis kept, and of its watch:
        its hooks during fit, timed inside the fit (another process' load stretches them
        and the training alike)."""

        watch_seconds = 0.0

        def _timed(self, hook: object, *args: object) -> None:
            start = time.perf_counter()
            hook(*args)  # type: ignore[operator]
            self.watch_seconds += time.perf_counter() - start

        def on_train_begin(self, logs: dict | None = None) -> None:
            self._timed(super().on_train_begin, logs)

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._timed(super().on_epoch_begin, epoch, logs)

        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            self._timed(super().on_train_batch_begin, batch, logs)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self._timed(super().on_epoch_end, epoch, logs)

        def on_train_end(self, logs: dict | None = None) -> None:
            start = time.perf_counter()
            super().on_train_end(logs)
            self.finish_seconds = time.perf_counter() - start

    def fit(with_doctor: bool, out: str) -> tuple[float, float, float]:
        """Wall seconds, the diagnosis' share of them, and CPU seconds of one fit."""
        keras.utils.set_random_seed(0)
        model = make_model()
        callbacks = (
            [TimedDoctor(x, y, validation_data=(xv, yv), out_dir=out)] if with_doctor else []
        )
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(x, y, validation_data=(xv, yv), epochs=args.epochs, batch_size=batch_size,
                  verbose=0, callbacks=callbacks)  # fmt: skip
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if callbacks:
            doctor = callbacks[0]
            own = doctor.watch_seconds / (elapsed - doctor.finish_seconds - doctor.watch_seconds)
            owns.append(1.0 + own)
        return elapsed, (callbacks[0].finish_seconds if callbacks else 0.0), cpu

    owns: list[float] = []  # each fit's watch over its training alone, timed inside it
    with tempfile.TemporaryDirectory() as tmp:
        fit(False, tmp)  # warm-up: graph tracing, first-touch costs
        fit(True, tmp)
        ratios, watch, finish, cpu_ratios, plains, watched = [], [], [], [], [], []
        for i in range(args.pairs):
            plain, _, plain_cpu = fit(False, tmp)
            doctored, finishing, doctored_cpu = fit(True, f"{tmp}/{i}")
            plains.append(plain)
            watched.append(doctored - finishing)
            ratios.append(doctored / plain)
            watch.append((doctored - finishing) / plain)
            finish.append(finishing / plain)
            cpu_ratios.append(doctored_cpu / plain_cpu)
            print(f"pair {i}: plain {plain:.2f} s, with the doctor {doctored:.2f} s "
                  f"(diagnosis {finishing:.2f} s), ratio {ratios[-1]:.3f}, watch "
                  f"{watch[-1]:.3f} (own time {owns[-1]:.3f}), CPU ratio {cpu_ratios[-1]:.3f}",
                  flush=True)  # fmt: skip
    print(f"median ratio with the doctor / plain over {args.pairs} pairs: "
          f"{statistics.median(ratios):.3f} (the watch during fit {statistics.median(watch):.3f}, "
          f"the diagnosis at its end +{statistics.median(finish):.3f}; CPU "
          f"{statistics.median(cpu_ratios):.3f}; the watch's own time "
          f"{statistics.median(owns[1:]):.3f})")  # fmt: skip
    # Other work on the machine only ever adds time: each side's fastest fit is the one it
    # disturbed least.
    print(f"fastest fit with the doctor's watch / fastest plain fit: "
          f"{min(watched) / min(plains):.3f}")  # fmt: skip


def default_case(store: str) -> tuple:
    """The default dataset's first 8760 rows through prepare, scale and window (as the
    pipeline makes them), gathered into arrays; the default model; the batch the pipeline
    sizes for them."""
    os.chdir(ROOT)
    from lstm_doctor.stages import keras_env  # noqa: F401  (before anything imports TensorFlow)

    # isort: split

    import numpy as np

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.config.sizing import fit_sizes
    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import build_model, make_optimizer
    from lstm_doctor.stages.window import load_windows

    cfg = validate(compose_config(["dataset.max_rows=8760"], conf_dir=ROOT / "conf"))
    paths = StagePaths.job(Path(store) / "job")
    for stage in (prepare, scale, window):
        stage.run(cfg, paths)
    windows, meta = load_windows(paths)
    x, y = windows["train"].batch(np.arange(len(windows["train"])))
    xv, yv = windows["val"].batch(np.arange(len(windows["val"])))

    def make_model() -> object:
        model = build_model(cfg.model, windows["train"].input_shape, meta["horizon"], "forecast")
        model.compile(optimizer=make_optimizer(cfg.optimizer), loss="mse", metrics=["mae"])
        return model

    return x, y, xv, yv, make_model, fit_sizes(len(x), cfg.training).batch_size


def seasonal_case(count: int) -> tuple:
    """`count` windows of a seasonal series (examples/series.py) and an LSTM(32)."""
    import keras
    from series import chronological, seasonal_series, windows

    table = seasonal_series(count + 24)
    table = (table - table.mean(0)) / table.std(0)
    x, y, xv, yv = chronological(*windows(table, table[:, 0], 24))

    def make_model() -> object:
        model = keras.Sequential(
            [keras.Input(x.shape[1:]), keras.layers.LSTM(32), keras.layers.Dense(1)]
        )
        model.compile(keras.optimizers.Adam(learning_rate=1e-3), "mse")
        return model

    return x, y, xv, yv, make_model, 64


if __name__ == "__main__":
    main()
