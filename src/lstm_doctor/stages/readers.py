"""Readers for raw files: CSV tables (forecasting) and .ts sequence archives (classifying)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstm_doctor.base.errors import DataError, first_line
from lstm_doctor.config import DatasetConfig


@dataclass
class LabelledSequences:
    """Sequences of possibly different lengths, each (length, channels), with a label each."""

    sequences: list[np.ndarray]
    labels: list[str]
    classes: list[str]


def read_table(ds: DatasetConfig) -> pd.DataFrame:
    """Read a CSV (or .csv.gz) file as strings-or-numbers, without interpreting it yet.

    Uses dataset.sep (the two characters backslash-t, as a shell passes them, mean a tab) and
    dataset.encoding. An empty file, a header without rows, undecodable bytes or a file that
    reads as one column holding another separator each stop with the key to set.
    """
    path = _existing(ds.path, "dataset.path")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes); check dataset.path")
    _refuse_binary(path)
    sep = "\t" if ds.sep == "\\t" else ds.sep
    try:
        codecs.lookup(ds.encoding)
    except LookupError:
        raise DataError(
            f"dataset.encoding {ds.encoding!r} is not a text encoding; use e.g. utf-8 or latin-1"
        ) from None
    try:
        frame = pd.read_csv(path, sep=sep, encoding=ds.encoding, low_memory=False)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: is not {ds.encoding} text (byte {exc.object[exc.start : exc.start + 1]!r} "
            f"at offset {exc.start}); set dataset.encoding={_likely_encoding(path, ds.encoding)} "
            "or whichever encoding the file was saved in"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file has no columns (it is blank); check dataset.path"
        ) from None
    except pd.errors.ParserError as exc:
        first = first_line(exc)
        raise DataError(
            f"{path}: cannot be read as CSV ({first}); check dataset.sep (now {ds.sep!r})"
        ) from None
    if frame.shape[1] == 1:
        _refuse_one_column(frame.columns[0], path, sep)
    _refuse_duplicate_names(path, sep, ds.encoding)
    if frame.empty:
        raise DataError(
            f"{path}: has a header ({', '.join(map(str, frame.columns))}) but no data rows; "
            "check dataset.path"
        )
    return frame


# The first bytes of files people save with a .csv name that are not text.
BINARY_FORMATS = {
    b"PAR1": ("a Parquet file", "pandas.read_parquet(path).to_csv(...)"),
    b"PK\x03\x04": ("a zip archive (an Excel .xlsx workbook?)", "Excel's Save As CSV"),
    b"\xd0\xcf\x11\xe0": ("an Excel .xls workbook", "Excel's Save As CSV"),
}


def _refuse_binary(path: Path) -> None:
    """A Parquet file or a workbook named .csv would otherwise read as undecodable text,
    and the hint would be a text encoding."""
    if path.suffix == ".gz":
        return
    with path.open("rb") as file:
        head = file.read(4)
    for magic, (what, how) in BINARY_FORMATS.items():
        if head.startswith(magic):
            raise DataError(
                f"{path}: is {what}, not CSV text; export it as CSV ({how}) and point "
                "dataset.path at that"
            )


def _refuse_duplicate_names(path: Path, sep: str, encoding: str) -> None:
    """pandas renames a repeated header ('y', 'y' -> 'y', 'y.1'): the config would then
    pick the first without a word."""
    header = pd.read_csv(path, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str)
    names = [str(n) for n in header.iloc[0].tolist()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"{path}: the header names column {repeated[0]!r} {names.count(repeated[0])} "
            "times; rename the columns so each name is used once"
        )


# A number written with a decimal comma (1,5 or -1.234,5), as European spreadsheets save it.
DECIMAL_COMMA = re.compile(r"-?[\d.]*\d,\d+")


def numeric_columns(frame: pd.DataFrame, columns: list[str], source: str) -> pd.DataFrame:
    """The columns as float64 (empty cells NaN), refusing text that is not a number."""
    out = {}
    for column in dict.fromkeys(columns):
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            example = raw[bad].iloc[0]
            if DECIMAL_COMMA.fullmatch(str(example).strip()):
                raise DataError(
                    f"{source}: column {column!r} writes decimals with a comma (e.g. "
                    f"{example!r}); save the file with '.' as the decimal mark"
                )
            raise DataError(
                f"{source}: column {column!r} has non-numeric values (e.g. {example!r}); "
                "clean it or list it under dataset.categorical"
            )
        if values.isna().all():
            raise DataError(
                f"{source}: column {column!r} is entirely missing; drop it from the config"
            )
        out[column] = values.astype("float64")
    return pd.DataFrame(out, index=frame.index)


# Separators people's CSVs use, as the hint would spell them in an override.
SEPARATORS = {";": "';'", "\t": "'\\t'", ",": "','", "|": "'|'"}
SEPARATOR_NAMES = {";": "';'", "\t": "tab", ",": "','", "|": "'|'"}


def _refuse_one_column(name: object, path: Path, sep: str) -> None:
    """A forecast needs a time and a target column: one column holding another separator
    means dataset.sep is not the file's."""
    for candidate, spelled in SEPARATORS.items():
        if candidate != sep and candidate in str(name):
            raise DataError(
                f"{path}: with dataset.sep={SEPARATORS.get(sep, repr(sep))} the file reads as "
                f"one column {str(name)!r}; it looks {SEPARATOR_NAMES[candidate]}-separated: "
                f"set dataset.sep={spelled}"
            )


def _likely_encoding(path: Path, tried: str) -> str:
    """utf-16 when the file starts with its byte-order mark, else latin-1 (or utf-8 if that
    was not what failed): a guess for the hint, never applied silently."""
    head = path.read_bytes()[:2] if path.suffix != ".gz" else b""
    if head in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    return "latin-1" if codecs.lookup(tried).name == "utf-8" else "utf-8"


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
