"""The chronological split of a series into train, val and test: the arithmetic prepare
(outlier bounds from the training span), scale and window all rely on."""

from __future__ import annotations

from lstm_doctor.base.errors import DataError
from lstm_doctor.config import SplitConfig

SPLITS = ("train", "val", "test")


def split_bounds(n_rows: int, split: SplitConfig) -> dict[str, tuple[int, int]]:
    """Chronological [start, end) row ranges for train, val and test."""
    n_test = round(n_rows * split.test_fraction)
    n_val = round(n_rows * split.val_fraction)
    n_train = n_rows - n_val - n_test
    bounds = {
        "train": (0, n_train),
        "val": (n_train, n_train + n_val),
        "test": (n_train + n_val, n_rows),
    }
    for name, (lo, hi) in bounds.items():
        if hi <= lo:
            raise DataError(
                f"split '{name}' is empty: the data has {n_rows} rows; "
                f"raise split.{name}_fraction or use more data"
            )
    return bounds
