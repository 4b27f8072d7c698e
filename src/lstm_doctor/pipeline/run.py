"""What every way into the pipeline shares about its run: the configuration a DVC stage
runs, signals turned into an orderly end, and ending a run that failed or was killed."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

from lstm_doctor.base.errors import Interrupted
from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.config import Config, load_params
from lstm_doctor.pipeline.log_later import tell_if_store_lost
from lstm_doctor.tracking import lifecycle

SIGNALS = (signal.SIGTERM, signal.SIGINT)
# The signal that stopped the work, kept beside its raise: a raise that lands inside code
# that takes any exception as its own (a library's callback machinery) would otherwise be
# lost, and with both signals ignored from then on, the run would train to its end.
_signalled: Interrupted | None = None


@contextmanager
def _signals_handled_by(handler: Any) -> Iterator[None]:
    """SIGTERM and SIGINT go to `handler` within the block, as before it after. Outside the
    main thread signals cannot be caught: there the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def signals_end_the_run() -> AbstractContextManager[None]:
    """Within the block, SIGTERM and SIGINT raise Interrupted where the code is (mid-epoch
    too), so the run's owner can end it KILLED with its curves so far."""

    global _signalled
    _signalled = None

    def interrupt(signum: int, frame: Any) -> None:
        global _signalled
        # The first signal decides: a second (a parent passing it on, `mlflow run`'s cancel
        # after Ctrl-C) must not cut short the closing of the run.
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        _signalled = Interrupted(signal.Signals(signum).name, signum)
        raise _signalled

    return _signals_handled_by(interrupt)


def raise_if_signalled() -> None:
    """Raise again the Interrupted of a signal received in this block, in case its first
    raise was swallowed on the way (called at each epoch's end)."""
    if _signalled is not None:
        raise _signalled


@contextmanager
def owning_the_run(open_run: Callable[[], object], paths: StagePaths) -> Iterator[None]:
    """The one way every entry point holds its run: `open_run` opens (or resumes) it with
    signals already handled; the block's work then ends it FINISHED, or FAILED / KILLED
    with the reason and the curves so far; a store lost on the way is told last."""
    with signals_end_the_run():
        open_run()
        try:
            yield
        except BaseException as exc:
            failed(exc)
            raise
        lifecycle.end_run("FINISHED")
    tell_if_store_lost(paths)


def signals_stop_the_workers(settle: Callable[[str], None]) -> Callable[[], None]:
    """For a parent whose jobs run in worker processes (a sweep, a fix): on SIGTERM or
    SIGINT, pass the signal on to the workers (a scheduler or `kill` may signal the parent
    alone), let `settle(signal name)` wait for their runs to end KILLED, then raise
    Interrupted here. Installed until the returned function restores the handlers; a no-op
    outside the main thread.

    The workers' runs must end before Interrupted propagates: on an exception the pool
    kills its workers outright, which would leave their runs RUNNING.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def stop(signum: int, frame: Any) -> None:
        import psutil

        name = signal.Signals(signum).name
        for s in SIGNALS:  # a second signal must not cut the settling short
            signal.signal(s, signal.SIG_IGN)
        for child in psutil.Process().children(recursive=True):
            with suppress(psutil.Error):  # gone already
                child.send_signal(signum)
        settle(name)
        raise Interrupted(name, signum)

    previous = {s: signal.signal(s, stop) for s in SIGNALS}

    def restore() -> None:
        for s, old in previous.items():
            signal.signal(s, old)

    return restore


def from_params() -> tuple[Config, StagePaths, list[str]]:
    """What a DVC stage runs: params.yaml, the project layout, and the overrides that rebuild
    its configuration from conf/ (what the diagnosis tells the user to run)."""
    from lstm_doctor.config.overrides import reproduce
    from lstm_doctor.config.params import conf_dir

    cfg = load_params()
    return cfg, StagePaths.project(), reproduce(cfg, conf_dir())


def failed(exc: BaseException) -> None:
    """End the open run FAILED with the reason, or KILLED (with the signal and the last
    epoch logged) when a signal or Ctrl-C stopped it."""
    if isinstance(exc, Interrupted | KeyboardInterrupt):
        name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        # Ignore a second signal while the run is being closed: the end must land.
        with _signals_handled_by(signal.SIG_IGN):
            epochs = lifecycle.epochs_logged()
            lifecycle.set_tags(
                {"killed_by": name, "killed_after_epochs": str(epochs), "error": f"{name}"}
            )
            run_id = lifecycle.active_run_id()
            lifecycle.end_run("KILLED")
            if run_id:
                lifecycle.keep_killed_under_mlflow_run(run_id)
        return
    lifecycle.set_tags({"error": f"{type(exc).__name__}: {exc}"[:500]})
    lifecycle.end_run("FAILED")
