"""A signal's stop is not lost when its raise is swallowed on the way."""

from __future__ import annotations

import os
import signal

import pytest

from lstm_doctor.base.errors import Interrupted
from lstm_doctor.pipeline.run import raise_if_signalled, signals_end_the_run


def test_a_swallowed_interrupt_is_raised_again_at_the_next_check() -> None:
    with signals_end_the_run():
        raise_if_signalled()  # nothing came yet: no raise
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
        except BaseException:  # code that takes any exception as its own
            pass
        with pytest.raises(Interrupted) as raised:
            raise_if_signalled()
    assert raised.value.signal_name == "SIGTERM"


def test_a_new_block_forgets_the_last_signal() -> None:
    with signals_end_the_run():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        except Interrupted:
            pass
    with signals_end_the_run():
        raise_if_signalled()
