"""The one typed input of the doctor: what a run left behind, gathered by an adapter.

The pipeline's adapter (`diagnose.pipeline_evidence`) reads its stage files; the script's
(`doctor/script`, fed by the Keras callback, autolog, an MLflow run or a history file)
builds the same object from what a user's own `fit` shows. The checks judge the object and
never ask where it came from; what an adapter could not see is listed in `not_assessed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstm_doctor.config import Config
from lstm_doctor.doctor.findings import Finding
from lstm_doctor.doctor.moot_fixes import RanWith


@dataclass
class Evidence:
    """Everything a diagnosis is judged on.

    `cfg` holds the run's settings in the pipeline's terms (a script's optimiser, batch size
    and layer sizes are described in the same fields). `data` are the findings of the data
    checks the adapter could run on what it had; `metrics` the held-out scores of the model
    and its baselines (None before there are any); `not_assessed` maps each check that did
    not run to what it needs.
    """

    cfg: Config
    history: pd.DataFrame
    monitors: pd.DataFrame = field(default_factory=pd.DataFrame)
    metrics: dict[str, Any] | None = None
    period: int | None = None
    train_windows: int | None = None
    data: list[Finding] = field(default_factory=list)
    not_assessed: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    overrides: list[str] = field(default_factory=list)
    # "pipeline": fixes are this project's overrides; "script": said in Keras' terms.
    origin: str = "pipeline"
    # The config as configured, before the data resolved its sizes, and what the data and
    # the run decided beside it: a fix that would leave the resolved run as it was is
    # dropped (doctor/moot_fixes). None where the adapter cannot tell.
    configured: Config | None = None
    ran: RanWith | None = None
