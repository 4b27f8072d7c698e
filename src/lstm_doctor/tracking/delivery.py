"""Sending a run's logs to a store that may fail: per-epoch curves from one background
thread (the store's latency stays out of the training loop), epochs that come faster than
SEND_INTERVAL_S sent together, and the first failure remembered so that training goes on
and every later call is skipped, not retried."""

from __future__ import annotations

import functools
import sys
import time
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
# Each send is one transaction in the store, and its client's CPU (about 10 ms a batch in a
# SQLite store, 20 ms with new keys) is taken from training on a machine whose cores all
# train; that CPU is Python holding the interpreter's lock, which each training step (and
# the gradient probe) needs on its way into TensorFlow. Epochs that come faster than this
# are sent together (an epoch's curves and its monitors in one batch); a slower epoch is
# sent as it ends. The UI's curves lag by at most this much, and a short run's first epochs
# still show while it trains. (5 s saved ~0.02 s of CPU in a 10-epoch run, and made every
# watcher of a short run, the suite's signal tests among them, wait for its curves.)
SEND_INTERVAL_S = 1.0
MAX_BATCH = 1000  # MLflow's limit of metrics in one log_batch
# Metrics not yet handed to the sender, by run, and when the last batch was handed over.
_queued: list[tuple[str, Metric]] = []
_last_send = {"at": -float("inf")}


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
    """Log per-epoch metrics without waiting for the store (used inside the fit loop): sent
    at once, with any queued before them, when SEND_INTERVAL_S has passed since the last
    batch and none is still in flight; else with the next one (flush sends what is left)."""
    queue_metrics(metrics, step)
    # A store slower than the epochs gets fewer, larger batches: one in flight at a time.
    if _queued and time.monotonic() - _last_send["at"] >= SEND_INTERVAL_S and not _pending:
        _send_queued()


def queue_metrics(metrics: dict[str, float], step: int) -> None:
    """Queue per-epoch metrics for the next send (log_metrics_async's or flush's): for a
    part of an epoch whose other part sends them together."""
    _check_sent()
    run = mlflow.active_run()
    if _lost or run is None:
        return
    now = now_ms()
    _queued.extend((run.info.run_id, Metric(k, float(v), now, step)) for k, v in metrics.items())


def in_background(fn: Callable[..., Any], *args: Any) -> None:
    """Run `fn(*args)` on the background sender, after what was handed to it before;
    `flush` waits for it. For a logging call guarded by `while_store_takes`."""
    if _lost:
        return
    _pending.append(_the_sender().submit(fn, *args))


def _the_sender() -> ThreadPoolExecutor:
    global _sender
    if _sender is None:
        _sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstm-doctor-log")
    return _sender


def _send_queued() -> None:
    """Hand every queued metric to the background sender, one batch per run (and per
    MAX_BATCH metrics); once the store is lost, drop them instead (each would wait out its
    own retries)."""
    if _lost:
        _queued.clear()
    if not _queued:
        return
    by_run: dict[str, list[Metric]] = {}
    for run_id, metric in _queued:
        by_run.setdefault(run_id, []).append(metric)
    _queued.clear()
    client = MlflowClient()
    for run_id, metrics in by_run.items():
        for lo in range(0, len(metrics), MAX_BATCH):
            batch = metrics[lo : lo + MAX_BATCH]
            _pending.append(_the_sender().submit(client.log_batch, run_id, metrics=batch))
    _last_send["at"] = time.monotonic()


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
    return int(time.time() * 1000)


def flush() -> None:
    """Send what is queued and wait for every epoch sent in the background to land (or
    fail)."""
    _check_sent()
    _send_queued()
    _check_sent(wait=True)
