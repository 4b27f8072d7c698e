"""Readers for raw files: CSV tables (forecasting) and .ts sequence archives (classifying)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_doctor.config import DatasetConfig
from lstm_doctor.errors import DataError


@dataclass
class LabelledSequences:
    """Sequences of possibly different lengths, each (length, channels), with a label each."""

    sequences: list[np.ndarray]
    labels: list[str]
    classes: list[str]


def read_table(ds: DatasetConfig) -> pd.DataFrame:
    """Read a CSV (or .csv.gz) file as strings-or-numbers, without interpreting it yet."""
    path = _existing(ds.path, "dataset.path")
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot be read as CSV ({first})") from None
    if frame.empty:
        raise DataError(f"{path}: has no data rows")
    return frame


def read_ts(path: Path | str, key: str) -> LabelledSequences:
    """Parse a sktime/aeon .ts file: '@' headers, then one case a line, channels split by ':'."""
    file = _existing(str(path), key)
    sequences: list[np.ndarray] = []
    labels: list[str] = []
    declared: list[str] = []
    in_data = False
    for number, line in enumerate(file.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            lower = line.lower()
            if lower.startswith("@classlabel"):
                parts = line.split()
                if len(parts) > 2 and parts[1].lower() == "true":
                    declared = parts[2:]
            elif lower.startswith("@data"):
                in_data = True
            continue
        *channels, label = line.split(":")
        if not channels:
            raise DataError(f"{file}:{number}: expected channels separated by ':' then a label")
        try:
            rows = [
                np.array([np.nan if v == "?" else float(v) for v in ch.split(",")])
                for ch in channels
            ]
        except ValueError:
            raise DataError(f"{file}:{number}: a non-numeric value in a sequence") from None
        length = max(len(r) for r in rows)
        padded = [np.pad(r, (0, length - len(r)), constant_values=np.nan) for r in rows]
        sequences.append(np.stack(padded, axis=1))
        labels.append(label.strip())
    if not sequences:
        raise DataError(f"{file}: no '@data' section with cases found")
    classes = declared or sorted(set(labels))
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise DataError(f"{file}: labels {unknown} are not among the declared classes {classes}")
    return LabelledSequences(sequences, labels, classes)


def _existing(path: str, key: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise DataError(
            f"{path}: file not found; check {key} (paths are relative to the project root)"
        )
    return file
