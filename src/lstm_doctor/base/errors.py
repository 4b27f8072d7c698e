"""The one error type users see: a single line naming the file or key and what to do."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DoctorError(Exception):
    """A problem with the user's data or config, reported as one line."""


class ConfigError(DoctorError):
    """An unknown key, a wrong type or a value out of range in the composed config."""


class DataError(DoctorError):
    """Input data that cannot be used as it is."""


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line (a library's may run to a page), or its
    type's name where it has none: what the one-line errors quote as the cause."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Interrupted(BaseException):
    """A signal (SIGTERM from a scheduler or `kill`, SIGINT from Ctrl-C) stopped the work.

    A BaseException, like KeyboardInterrupt: no `except Exception` swallows it on its way to
    the owner of the run, which ends the run KILLED.
    """

    def __init__(self, signal_name: str, signal_number: int) -> None:
        # Both in args: a job's Interrupted is pickled back to its sweep's parent process.
        super().__init__(signal_name, signal_number)
        self.signal_name = signal_name
        self.signal_number = signal_number

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}"


def report_errors(fn: Callable[[], T]) -> T:
    """Run `fn`; turn a DoctorError into one line on stderr and exit status 2, and a signal
    into one line and the shell's status for it (128 + the signal's number).

    RuntimeWarnings stay off the console. Set LSTM_DOCTOR_DEBUG=1 to see them and the
    traceback instead.
    """
    try:
        with warnings.catch_warnings():
            if not os.environ.get("LSTM_DOCTOR_DEBUG"):
                # numpy's and pandas' RuntimeWarnings (mean of an empty slice, overflow in a
                # cast) name no file or key: what they flag is checked and refused in words.
                warnings.simplefilter("ignore", RuntimeWarning)
            return fn()
    except Interrupted as exc:
        print(f"lstm-doctor: {exc}; the MLflow run is marked KILLED", file=sys.stderr)
        raise SystemExit(128 + exc.signal_number) from None
    except DoctorError as exc:
        if os.environ.get("LSTM_DOCTOR_DEBUG"):
            raise
        print(f"lstm-doctor: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
