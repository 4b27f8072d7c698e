"""Progress over many runs (fix, sweeps' benchmarks): a tqdm bar with runs done and failed
and the time left on a terminal; plain lines where the output is a log (CI stays readable)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def track(results: Iterable[T], total: int, label: str) -> Iterator[T]:
    """Yield each run's outcome as it comes, showing progress; an outcome that is a string
    other than "finished" (e.g. "failed: ...") counts as failed.

    On a terminal, a tqdm bar on stderr; otherwise one line per run with the counts, the
    time so far and an estimate of the time left.
    """
    failed = 0
    if sys.stderr.isatty():
        from tqdm import tqdm

        with tqdm(total=total, desc=label, unit="run", file=sys.stderr) as bar:
            for outcome in results:
                failed += _failed(outcome)
                bar.set_postfix(failed=failed)
                bar.update()
                yield outcome
        return
    start = time.monotonic()
    for done, outcome in enumerate(results, start=1):
        failed += _failed(outcome)
        elapsed = time.monotonic() - start
        left = elapsed / done * (total - done)
        print(
            f"{label}: {done}/{total} runs done, {failed} failed, "
            f"{elapsed:.0f} s so far, about {left:.0f} s left",
            file=sys.stderr,
            flush=True,
        )
        yield outcome


def _failed(outcome: object) -> bool:
    return isinstance(outcome, str) and outcome != "finished"
