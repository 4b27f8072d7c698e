"""Sending a run's logs to a store that may fail: per-epoch curves from one background
thread (the store's latency stays out of the training loop), and the first failure
remembered so that training goes on and every later call is skipped, not retried."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

F = TypeVar("F", bound=Callable[..., Any])

# The store failing mid-run (server down, disk full, database locked): training must go
# on and its outputs be written. The first failure is remembered here; from then on every
# guarded call is skipped instead of retried, and the pipeline tells the user to log the
# run later (`lstm-doctor sync`).
_lost: dict[str, str] = {}
# Per-epoch curves are sent from one background thread, so the store's latency stays out of
# the training loop; their futures are checked (never waited on) as training goes.
_sender: ThreadPoolExecutor | None = None
_pending: list[Future] = []


def store_lost() -> str | None:
    """Why the store stopped taking this run's logs, or None while it takes them."""
    return _lost.get("reason")


def lose(exc: BaseException) -> None:
    """Remember the store's first failure and say so once, on stderr."""
    if _lost:
        return
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:160]
    _lost["reason"] = reason
    print(
        f"lstm-doctor: warning: the tracking store {mlflow.get_tracking_uri()} stopped taking "
        f"this run's logs ({reason}); training goes on and its curves are kept in history.csv",
        file=sys.stderr,
        flush=True,
    )


def while_store_takes(fn: F) -> F:
    """Skip `fn` once the store has failed; remember the failure if `fn` meets it."""

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _lost:
            return None
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # any failure to write the run is the store's
            lose(exc)
            return None

    return guarded  # type: ignore[return-value]


def reset() -> None:
    """A new run: the store is trusted again."""
    _lost.clear()


def log_metrics_async(metrics: dict[str, float], step: int) -> None:
    """Log per-epoch metrics without waiting for the store (used inside the fit loop)."""
    global _sender
    _check_sent()
    run = mlflow.active_run()
    if _lost or run is None:
        return
    if _sender is None:
        _sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstm-doctor-log")
    now = now_ms()
    batch = [Metric(k, float(v), now, step) for k, v in metrics.items()]
    _pending.append(_sender.submit(MlflowClient().log_batch, run.info.run_id, metrics=batch))


def _check_sent(wait: bool = False) -> None:
    """Look at the epochs sent so far: the first that failed marks the store lost, and the
    epochs still queued behind it are dropped (each would wait out its own retries)."""
    for future in list(_pending):
        if _lost:
            future.cancel()  # the one in flight ends on its own, within its retries
            _pending.remove(future)
            continue
        if not (wait or future.done()):
            continue
        _pending.remove(future)
        exc = future.exception()
        if exc is not None:
            lose(exc)


def now_ms() -> int:
    import time

    return int(time.time() * 1000)


def flush() -> None:
    """Wait for the epochs sent in the background to land (or fail)."""
    _check_sent(wait=True)
