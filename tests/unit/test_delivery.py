"""The background sender once the store is lost: what was queued before the loss is
dropped, never sent to a store that would make each send wait out its retries."""

from __future__ import annotations

import pytest
from mlflow.entities import Metric

from lstm_doctor.tracking import delivery


@pytest.fixture
def lost_with_a_queue():
    delivery._queued.append(("run", Metric("loss", 1.0, 0, 0)))
    delivery._lost["reason"] = "OperationalError: database is locked"
    delivery._last_send["at"] = -float("inf")
    yield
    delivery.reset()
    delivery._queued.clear()
    delivery._pending.clear()


@pytest.mark.parametrize("call", ["log_metrics_async", "flush"])
def test_metrics_queued_before_the_store_was_lost_are_dropped_not_sent(
    lost_with_a_queue, call: str
) -> None:
    if call == "flush":
        delivery.flush()
    else:
        delivery.log_metrics_async({"val_loss": 2.0}, 1)
    assert delivery._pending == [] and delivery._queued == []
