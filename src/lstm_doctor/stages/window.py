"""Stage window: where each training example starts, never the examples themselves.

Reads scaled/meta.json; writes windows/windows.npz (start offsets per split) and
windows/meta.json. Batches are gathered from the offsets on demand (`Windows.batch`), so
memory grows with the series (N x F), never with the window length (N x L x F).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.stage_meta import ScaledMeta, WindowsMeta
from lstm_doctor.base.workspace import (
    SCALED_SERIES,
    SEQUENCES,
    WINDOW_STARTS,
    StagePaths,
    atomic_dir,
)
from lstm_doctor.config import Config, WindowConfig
from lstm_doctor.stages.splits import SPLITS


def window_starts(bounds: tuple[int, int], cfg: WindowConfig, skip: int = 0) -> np.ndarray:
    """Start offsets of the windows lying wholly inside one split [lo, hi).

    A window starting at s reads inputs s .. s+length-1 and labels s+length .. s+length+horizon-1.
    """
    lo, hi = bounds
    last = hi - cfg.length - cfg.horizon  # the latest start whose labels stay inside the split
    return np.arange(lo + skip, last + 1, cfg.stride, dtype=np.int64)


def forecast_starts(bounds: dict[str, tuple[int, int]], cfg: WindowConfig) -> dict[str, np.ndarray]:
    """Window starts for every split; val and test skip `gap` steps after the split point."""
    starts = {}
    for name in SPLITS:
        starts[name] = window_starts(bounds[name], cfg, skip=0 if name == "train" else cfg.gap)
        lo, hi = bounds[name]
        if len(starts[name]) == 0:
            raise DataError(
                f"split '{name}' has {hi - lo} steps, fewer than window.length + window.horizon"
                f" + gap = {cfg.length + cfg.horizon + (cfg.gap if name != 'train' else 0)}; "
                "lower window.length or window.horizon, or use more data"
            )
    return starts


@dataclass
class Windows:
    """Examples of one split, gathered lazily from the scaled data.

    For forecasting, `data` is the series (N x F) and `starts` are offsets into it; for
    classification, `data` is the sequences (n x L x F) and `starts` index them.
    """

    data: np.ndarray
    starts: np.ndarray
    task: str
    length: int
    horizon: int = 1
    normalize: str = "none"
    target_index: int = 0
    labels: np.ndarray | None = None
    # The targets as corrections to a lookup: the target's value this many steps before
    # each target step, at the same phase and before the window's end (1: persistence, the
    # season: seasonal naive); 0 forecasts the level itself.
    lookup_lag: int = 0

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def input_shape(self) -> tuple[int, int]:
        return (self.length, self.data.shape[-1])

    def batch(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of the windows at `positions` (indices into `starts`)."""
        x, y, _ = self.batch_with_stats(positions)
        return x, y

    def batch_with_stats(
        self, positions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """Inputs, targets and each window's target offset and scale (None when the windows
        are not normalised), so predictions can be mapped back without a second gather."""
        chosen = self.starts[positions]
        if self.task == "classify":
            assert self.labels is not None
            return self.data[chosen], self.labels[chosen], None
        steps = np.arange(self.length)
        x = self.data[chosen[:, None] + steps]
        y = self.data[chosen[:, None] + self.length + np.arange(self.horizon), self.target_index]
        if self.normalize == "none" and not self.lookup_lag:
            return x.astype(np.float32), y.astype(np.float32), None
        offset, scale = self._window_stats(x)
        t = self.target_index
        stats = (offset[:, 0, t : t + 1], scale[:, 0, t : t + 1])
        if self.lookup_lag:
            # The model answers (target - lookup) in the window's units, so an output of
            # zero is the lookup itself: an untrained model starts at the lookup's error.
            stats = (self.lookups(chosen), stats[1])
        return (
            ((x - offset) / scale).astype(np.float32),
            ((y - stats[0]) / stats[1]).astype(np.float32),
            stats,
        )

    def lookups(self, chosen: np.ndarray) -> np.ndarray:
        """The lookup's forecast (windows x horizon, scaled-series units) for the windows
        starting at `chosen`: for step h after the window's end, the target `lookup_lag`
        x ceil((h+1) / lookup_lag) steps earlier, the latest same-phase value the window's
        end allows. A lookup before the series' first step reads that step (still the past)."""
        lag = self.lookup_lag
        steps = np.arange(self.horizon)
        back = lag * ((steps + lag) // lag)  # lag * ceil((h + 1) / lag)
        at = chosen[:, None] + self.length + steps - back
        return self.data[np.maximum(at, 0), self.target_index].astype(np.float64)

    @staticmethod
    def restore(predictions: np.ndarray, stats: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """Map model outputs back to the scaled-series units with a batch's window stats."""
        if stats is None:
            return predictions
        offset, scale = stats
        return predictions * scale + offset

    def denormalize(self, positions: np.ndarray, predictions: np.ndarray) -> np.ndarray:
        """Map model outputs for the windows at `positions` back to the scaled-series units."""
        return self.restore(predictions, self.batch_with_stats(positions)[2])

    def _window_stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.normalize == "last":
            return x[:, -1:, :], np.ones_like(x[:, -1:, :])
        if self.normalize == "standard":
            std = x.std(axis=1, keepdims=True)
            return x.mean(axis=1, keepdims=True), np.where(std > 1e-6, std, 1.0)
        return np.zeros((len(x), 1, x.shape[2]), x.dtype), np.ones((len(x), 1, x.shape[2]), x.dtype)


def lookup_lag(residual_to: str, period: int | None) -> int:
    """The lag of the lookup a model forecasts corrections to (`model.residual_to`): 0 for
    none, 1 for persistence, the data's period for seasonal naive."""
    if residual_to == "none":
        return 0
    if residual_to == "persistence":
        return 1
    if not period or period < 2:
        raise DataError(
            "model.residual_to=seasonal_naive needs a season: set dataset.period (or "
            "dataset.freq), or use model.residual_to=persistence"
        )
    return int(period)


def load_windows(
    paths: StagePaths, residual_to: str = "none"
) -> tuple[dict[str, Windows], dict[str, Any]]:
    """The three splits' Windows over scaled/, and the merged scaled + window metadata.
    `residual_to` (model.residual_to) makes forecast targets corrections to that lookup."""
    meta = ScaledMeta.read(paths).as_dict() | WindowsMeta.read(paths).as_dict()
    offsets = np.load(paths.windows / WINDOW_STARTS)
    if meta["task"] == "classify":
        arrays = np.load(paths.scaled / SEQUENCES)
        data, labels = arrays["x"], arrays["y"]
        length = data.shape[1]
    else:
        data, labels = np.load(paths.scaled / SCALED_SERIES)["values"], None
        length = meta["length"]
    lag = lookup_lag(residual_to, meta.get("period")) if meta["task"] == "forecast" else 0
    splits = {
        name: Windows(
            data=data,
            starts=offsets[name],
            task=meta["task"],
            length=length,
            horizon=meta.get("horizon", 1),
            normalize=meta.get("normalize", "none"),
            labels=labels,
            lookup_lag=0 if meta["task"] == "classify" else lag,
        )
        for name in SPLITS
    }
    return splits, meta


def run(cfg: Config, paths: StagePaths) -> WindowsMeta:
    """Read scaled/meta.json and write windows/."""
    scaled = ScaledMeta.read(paths)
    bounds = scaled.bounds
    if scaled.task == "classify":
        starts = {name: np.arange(*bounds[name], dtype=np.int64) for name in SPLITS}
        meta = WindowsMeta(task="classify")
    else:
        starts = forecast_starts(bounds, cfg.window)
        w = cfg.window
        meta = WindowsMeta(task="forecast", length=w.length, horizon=w.horizon, stride=w.stride,
                           gap=w.gap, normalize=w.normalize)  # fmt: skip
    meta.counts = {name: len(s) for name, s in starts.items()}
    with atomic_dir(paths.windows) as out:
        np.savez(out / WINDOW_STARTS, **starts)
        meta.write(out)
    return meta
