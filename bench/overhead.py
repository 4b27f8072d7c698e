"""What the pipeline's training costs over a bare `model.fit`: the real train step (lazy
window batches, the per-epoch MLflow curves, the gradient monitor, saving the model and its
history) against building, compiling and fitting the same model on the same windows with a
bare `model.fit`.

    python bench/overhead.py [--repeats 7] [--epochs 10] [--rows 8760]

Same data, model, epochs (no early stopping, so both run them all) and seed. The
instrumented side is `pipeline.training.train_step` inside an open MLflow run, exactly as
`dvc repro` and `lstm-doctor` run it (the model is not logged: that is a one-off upload).
Runs alternate plain and instrumented; prints each pair's ratio and the median, in wall
time and in this process' CPU time (all its threads: the background MLflow sender counts).
On a machine shared with other work the CPU ratio is the steadier of the two (another
process' load stretches the wall time of both sides, not their CPU seconds), and so is the
ratio of each side's fastest run. Steadier still is the run's own time, timed inside the
instrumented run (see OwnTime): its hooks, its work around `fit` and its sends, against
its training alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=8760)
    args = parser.parse_args()
    store = tempfile.mkdtemp(prefix="overhead-")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store}/mlflow.db"
    os.chdir(ROOT)

    from lstm_doctor.stages import keras_env as backend  # noqa: F401  (before anything imports TensorFlow)

    # isort: split

    import keras

    from lstm_doctor.base.workspace import StagePaths
    from lstm_doctor.config import validate
    from lstm_doctor.config.params import compose_config
    from lstm_doctor.pipeline.training import train_step
    from lstm_doctor.stages import prepare, scale, window
    from lstm_doctor.stages.train import WindowBatches, build_model, make_optimizer
    from lstm_doctor.stages.window import load_windows
    from lstm_doctor.tracking import lifecycle

    overrides = [
        f"dataset.max_rows={args.rows}",
        f"training.epochs={args.epochs}",
        "training.early_stopping.enabled=false",
        "tracking.log_model=false",
    ]
    cfg = validate(compose_config(overrides, conf_dir=ROOT / "conf"))
    paths = StagePaths.job(Path(store) / "job")
    for stage in (prepare, scale, window):
        stage.run(cfg, paths)
    windows, meta = load_windows(paths)
    t = cfg.training

    own = OwnTime()

    def fit(instrumented: bool) -> tuple[float, float]:
        """Wall and CPU seconds of one fit."""
        if instrumented:
            lifecycle.start_run(cfg, {"bench": "overhead"})
            own.reset()
            start, cpu = time.perf_counter(), time.process_time()
            train_step(cfg, paths, [])
            elapsed = time.perf_counter() - start, time.process_time() - cpu
            lifecycle.end_run()
            own.step = elapsed[0]
            return elapsed
        # A bare script builds and compiles its model too: timed on both sides alike.
        own.reset()
        start, cpu = time.perf_counter(), time.process_time()
        keras.utils.set_random_seed(cfg.seed)
        model = build_model(cfg.model, windows["train"].input_shape, meta["horizon"], "forecast")
        model.compile(optimizer=make_optimizer(cfg.optimizer), loss="mse", metrics=["mae"])
        model.fit(
            WindowBatches(windows["train"], t.batch_size, True, cfg.seed),
            validation_data=WindowBatches(windows["val"], 256),
            epochs=args.epochs, verbose=0,
        )  # fmt: skip
        elapsed = time.perf_counter() - start, time.process_time() - cpu
        own.bare_hooks = own.spent["hooks"]
        return elapsed

    # Warm-up, in neither measurement: each side's first-touch costs (imports, the store's
    # tables), and the probe's compiled gradient, which a process traces once per
    # architecture; the cold instrumented run is printed, so that one-off is seen.
    fit(False)
    cold, cold_cpu = fit(True)
    print(f"warm-up: instrumented run in a cold process {cold:.2f} s (CPU {cold_cpu:.1f} s)")
    print(f"  its own time {own.seconds():.2f} s: {own.parts()}")
    ratios, cpu_ratios, plains, instrumenteds, owns = [], [], [], [], []
    for i in range(args.repeats):
        plain, plain_cpu = fit(False)
        instrumented, instrumented_cpu = fit(True)
        plains.append(plain)
        instrumenteds.append(instrumented)
        ratios.append(instrumented / plain)
        cpu_ratios.append(instrumented_cpu / plain_cpu)
        owns.append(own.ratio())
        print(f"run {i}: plain {plain:.2f} s, instrumented {instrumented:.2f} s, ratio "
              f"{ratios[-1]:.3f} (CPU {plain_cpu:.1f} s, {instrumented_cpu:.1f} s, ratio "
              f"{cpu_ratios[-1]:.3f}); own time {own.seconds():.2f} s, ratio {owns[-1]:.3f}: "
              f"{own.parts()}", flush=True)  # fmt: skip
    print(f"median ratio instrumented / plain over {args.repeats} runs: "
          f"{statistics.median(ratios):.3f} (CPU {statistics.median(cpu_ratios):.3f}; "
          f"own time {statistics.median(owns):.3f})")  # fmt: skip
    # Other work on the machine only ever adds time: each side's fastest run is the one it
    # disturbed least.
    print(f"fastest instrumented / fastest plain: {min(instrumenteds) / min(plains):.3f}")


class OwnTime:
    """What the instrumented run spends on its own work, timed inside it (so another
    process' load stretches it and the training alike): Keras' callback hooks during `fit`
    (the monitor's probe, the curves' logger, the timer, the epoch lines) beyond those the
    bare fit before it ran (Keras' own History and batch dispatch, which every fit pays), the
    train step outside `fit` (data notes, inputs, params, saving, the last sends) but for
    building and compiling the model (the bare side does the same, timed too), and the
    background sender's CPU (taken from training where every core trains). `ratio()` is the
    run over its training alone: 1 + own seconds / (fit - hooks)."""

    HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end")  # fmt: skip

    def __init__(self) -> None:
        import keras
        from mlflow.tracking import MlflowClient

        from lstm_doctor.stages import train as train_stage
        from lstm_doctor.tracking import lifecycle

        self.bare_hooks = 0.0
        self.reset()
        for name in self.HOOKS:
            self._wrap(keras.callbacks.CallbackList, name, "hooks", time.perf_counter)
        self._wrap(keras.Model, "fit", "fit", time.perf_counter)
        self._wrap(keras.Model, "compile", "build", time.perf_counter)
        self._wrap(train_stage, "build_model", "build", time.perf_counter)
        self._wrap(MlflowClient, "log_batch", "sends", time.thread_time)
        # The dataset inputs, where they are logged off the main thread: their CPU there.
        self._wrap(lifecycle, "log_datasets", "sends", time.thread_time, background=True)

    def reset(self) -> None:
        self.spent = {"hooks": 0.0, "fit": 0.0, "sends": 0.0, "build": 0.0}
        self.step = 0.0

    def _wrap(
        self, owner: object, name: str, part: str, clock: object, background: bool = False
    ) -> None:
        original = getattr(owner, name)

        def timed(*args: object, **kwargs: object) -> object:
            if background and threading.current_thread() is threading.main_thread():
                return original(*args, **kwargs)
            start = clock()  # type: ignore[operator]
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[part] += clock() - start  # type: ignore[operator]

        setattr(owner, name, timed)

    def _outside(self) -> float:
        return self.step - self.spent["fit"] - self.spent["build"]

    def _hooks(self) -> float:
        return self.spent["hooks"] - self.bare_hooks

    def seconds(self) -> float:
        """The run's own seconds: the step outside fit and the model's building, its hooks
        beyond the bare fit's, the sends' CPU."""
        return self._outside() + self._hooks() + self.spent["sends"]

    def ratio(self) -> float:
        return 1.0 + self.seconds() / (self.spent["fit"] - self.spent["hooks"])

    def parts(self) -> str:
        return (f"hooks {self._hooks():.2f} s (the bare fit's {self.bare_hooks:.2f} s aside), "
                f"outside fit {self._outside():.2f} s (building the model "
                f"{self.spent['build']:.2f} s aside), sends {self.spent['sends']:.2f} s CPU")  # fmt: skip


if __name__ == "__main__":
    main()
