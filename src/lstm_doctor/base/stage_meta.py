"""What the scale and window stages say about their outputs, typed: scaled/meta.json as
`ScaledMeta`, windows/meta.json as `WindowsMeta`. The stages write them through `write`,
and the pipeline, the doctor and the next stage read them through `read`, so a field cannot
be renamed on one side only: a file with a field the type lacks, or without one it needs,
fails on reading, naming the file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from lstm_doctor.base.errors import DoctorError
from lstm_doctor.base.workspace import META, StagePaths, read_json, write_json

Bounds = dict[str, tuple[int, int]]
T = TypeVar("T", bound="_Meta")


class _Meta:
    """Reading and writing a stage's meta.json as the dataclass that types it."""

    @classmethod
    def from_file(cls: type[T], path: Path) -> T:
        data = read_json(path)
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise DoctorError(
                f"{path}: fields {unknown} are not in {cls.__name__}; rerun the stage that "
                "wrote it (`dvc repro`) with this version of lstm-doctor"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise DoctorError(
                f"{path}: {exc}; rerun the stage that wrote it (`dvc repro`)"
            ) from None

    def as_dict(self) -> dict[str, Any]:
        """The fields as meta.json holds them (a field that does not apply is left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}  # type: ignore[call-overload]

    def write(self, folder: Path) -> None:
        """meta.json in `folder` (a stage's output folder, while it is being written)."""
        write_json(folder / META, self.as_dict())


@dataclass
class ScaledMeta(_Meta):
    """scaled/meta.json: the task, each split's rows [lo, hi), the columns (target first)
    and the scaler fitted on the training span; for forecasts the frequency, the season and
    MASE's lag; for classifiers the classes."""

    task: str
    split: dict[str, float]
    columns: list[str]
    bounds: Bounds
    scaler: dict[str, Any]
    target_index: int = 0
    classes: list[str] | None = None
    timezone: str | None = None
    freq: str | None = None
    period: int | None = None
    mase_lag: int | None = None
    mase_lag_note: str | None = None

    def __post_init__(self) -> None:
        self.bounds = {name: (int(lo), int(hi)) for name, (lo, hi) in self.bounds.items()}

    @classmethod
    def read(cls, paths: StagePaths) -> ScaledMeta:
        return cls.from_file(paths.scaled / META)

    @property
    def train_steps(self) -> int:
        lo, hi = self.bounds["train"]
        return hi - lo


@dataclass
class WindowsMeta(_Meta):
    """windows/meta.json: how many windows each split holds and, for forecasts, the window
    settings they were cut with."""

    task: str
    counts: dict[str, int] = field(default_factory=dict)
    length: int | None = None
    horizon: int | None = None
    stride: int | None = None
    gap: int | None = None
    normalize: str | None = None

    @classmethod
    def read(cls, paths: StagePaths) -> WindowsMeta:
        return cls.from_file(paths.windows / META)

    @property
    def span(self) -> int | None:
        """Steps one window covers, inputs and targets (None for sequences)."""
        return (self.length or 0) + (self.horizon or 0) or None
