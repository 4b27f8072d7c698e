"""The one error type users see: a single line naming the file or key and what to do."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DoctorError(Exception):
    """A problem with the user's data or config, reported as one line."""


class ConfigError(DoctorError):
    """An unknown key, a wrong type or a value out of range in the composed config."""


class DataError(DoctorError):
    """Input data that cannot be used as it is."""


def report_errors(fn: Callable[[], T]) -> T:
    """Run `fn`; turn a DoctorError into one line on stderr and exit status 2.

    Set LSTM_DOCTOR_DEBUG=1 to see the traceback instead.
    """
    try:
        return fn()
    except DoctorError as exc:
        if os.environ.get("LSTM_DOCTOR_DEBUG"):
            raise
        print(f"lstm-doctor: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
