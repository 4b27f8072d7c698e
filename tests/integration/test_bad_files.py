"""Bad files, through both ways in: the prepare stage (as DVC runs it) and the Hydra app.

Each must stop with one line naming the file and what to do, exit status 2 and no output
left behind; rows off the time grid are not an error but are counted in the report. With
the right dataset.sep / dataset.encoding the same files read correctly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from lstm_doctor.base.errors import DataError
from lstm_doctor.base.workspace import StagePaths, read_json
from lstm_doctor.config import validate
from lstm_doctor.config.params import compose_config
from lstm_doctor.stages import prepare
from lstm_doctor.stages.readers import read_table
from tests.integration.test_bad_input import (
    ROOT,
    assert_one_line_error,
    hourly,
    run_app,
    run_stage,
    write_params,
)

EPOCH_2024 = 1_704_067_200  # 2024-01-01 00:00 UTC in seconds


def with_wind(n: int) -> pd.DataFrame:
    """Hourly rows with a text column holding non-ASCII characters."""
    return hourly(n).assign(wind=["Nördlich", "Süd"] * (n // 2))


def off_grid(n: int) -> pd.DataFrame:
    stray = pd.DataFrame({"time": [pd.Timestamp("2024-01-01 01:30")], "y": [0.5]})
    return pd.concat([hourly(n), stray]).sort_values("time")


# name -> (write the file, extra overrides, fragments the one error line must hold)
Case = tuple[Callable[[Path], None], list[str], list[str]]
CASES: dict[str, Case] = {
    "empty": (lambda p: p.write_bytes(b""), [], ["is empty (0 bytes)", "dataset.path"]),
    "header_only": (lambda p: p.write_text("time,y\n"), [], ["no data rows", "dataset.path"]),
    "semicolons": (
        lambda p: hourly(50).to_csv(p, sep=";", index=False),
        [],
        ["one column 'time;y'", "dataset.sep=';'"],
    ),
    "latin1": (
        lambda p: with_wind(50).to_csv(p, index=False, encoding="latin-1"),
        [],
        ["is not utf-8 text", "dataset.encoding=latin-1"],
    ),
    "epoch_without_unit": (
        lambda p: (
            hourly(50).assign(time=EPOCH_2024 + 3600 * pd.RangeIndex(50)).to_csv(p, index=False)
        ),
        [],
        ["column 'time' holds numbers", "dataset.time_unit=s|ms|us|ns"],
    ),
    "duplicates": (
        lambda p: pd.concat([hourly(50), hourly(50).iloc[[3]]]).to_csv(p, index=False),
        [],
        ["1 duplicate timestamps", "prepare.duplicates=drop"],
    ),
    "all_nan_column": (
        lambda p: hourly(50).assign(extra=float("nan")).to_csv(p, index=False),
        ["dataset.features=[extra]"],
        ["column 'extra' is entirely missing"],
    ),
}
# The window stage refuses it (prepare and scale pass): the line names the keys to change.
SHORT: Case = (
    lambda p: hourly(30).to_csv(p, index=False),
    [],
    ["fewer than window.length + window.horizon", "lower window.length"],
)


def dataset_overrides(path: Path, extra: list[str]) -> list[str]:
    return ["dataset=csv", f"dataset.path={path}", "dataset.target=y", *extra]


@pytest.mark.parametrize("case", sorted(CASES))
def test_prepare_stage_stops_on_a_bad_file(tmp_path: Path, case: str) -> None:
    write, extra, fragments = CASES[case]
    path = tmp_path / f"{case}.csv"
    write(path)
    write_params(tmp_path, *dataset_overrides(path, extra))
    assert_one_line_error(run_stage(tmp_path, "prepare"), path.name, *fragments)
    assert not (tmp_path / "data" / "prepared").exists()
    assert not list((tmp_path / "data").glob(".prepared.*"))


def test_stages_stop_on_a_series_shorter_than_one_window(tmp_path: Path) -> None:
    write, extra, fragments = SHORT
    write(tmp_path / "short.csv")
    write_params(tmp_path, *dataset_overrides(tmp_path / "short.csv", extra))
    for stage in ("prepare", "scale"):
        assert run_stage(tmp_path, stage).returncode == 0
    assert_one_line_error(run_stage(tmp_path, "window"), *fragments)
    assert not (tmp_path / "data" / "windows").exists()


def test_prepare_stage_counts_rows_off_the_grid_and_goes_on(tmp_path: Path) -> None:
    off_grid(50).to_csv(tmp_path / "off_grid.csv", index=False)
    write_params(tmp_path, *dataset_overrides(tmp_path / "off_grid.csv", []))
    result = run_stage(tmp_path, "prepare")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not even a library's warning
    report = read_json(tmp_path / "data" / "prepared" / "report.json")
    assert report["rows_off_grid"] == 1
    assert report["off_grid_example"] == "2024-01-01T01:30:00"
    assert report["rows_inserted"] == 0
    assert report["rows_out"] == 50


@pytest.mark.parametrize("case", [*sorted(CASES), "short"])
def test_app_stops_on_a_bad_file(tmp_path: Path, case: str) -> None:
    write, extra, fragments = SHORT if case == "short" else CASES[case]
    path = tmp_path / f"{case}.csv"
    write(path)
    result = run_app(tmp_path, *dataset_overrides(path, extra))
    named = [] if case == "short" else [path.name]
    assert_one_line_error(result, *named, *fragments)
    assert not (tmp_path / "job" / "prepared").exists() or case == "short"
    assert not (tmp_path / "job" / "windows").exists()
    assert not [p for p in (tmp_path / "job").glob(".*") if p.name != ".hydra"]


# --- the same files read correctly once the config says how -------------------------------


def prepare_with(
    tmp_path: Path, path: Path, *extra: str, sep: str | None = None
) -> tuple[pd.DataFrame, dict]:
    """Compose the real config with Hydra overrides, as a user types them, and prepare.

    `sep` is set after validation, as a value the shell can pass but Hydra's override
    grammar cannot (the two characters backslash-t).
    """
    cfg = validate(compose_config(dataset_overrides(path, list(extra)), ROOT / "conf"))
    if sep is not None:
        cfg.dataset.sep = sep
    paths = StagePaths.job(tmp_path / "job")
    report = prepare.run(cfg, paths)
    return pd.read_parquet(paths.prepared / "table.parquet"), report


def test_semicolon_file_reads_with_sep(tmp_path: Path) -> None:
    hourly(50).to_csv(tmp_path / "semi.csv", sep=";", index=False)
    table, report = prepare_with(tmp_path, tmp_path / "semi.csv", "dataset.sep=';'")
    assert table["y"].tolist() == list(range(50))
    assert report["freq"] == "h"


def test_tab_file_reads_with_sep_typed_as_backslash_t(tmp_path: Path) -> None:
    hourly(50).to_csv(tmp_path / "tabs.tsv", sep="\t", index=False)
    with pytest.raises(DataError, match=r"looks tab-separated: set dataset.sep='\\t'"):
        prepare_with(tmp_path, tmp_path / "tabs.tsv")
    table, _ = prepare_with(tmp_path, tmp_path / "tabs.tsv", sep="\\t")
    assert table["y"].tolist() == list(range(50))


def test_latin1_file_reads_with_encoding(tmp_path: Path) -> None:
    with_wind(50).to_csv(tmp_path / "latin1.csv", index=False, encoding="latin-1")
    table, report = prepare_with(
        tmp_path, tmp_path / "latin1.csv", "dataset.encoding=latin-1", "dataset.categorical=[wind]"
    )
    assert report["encoded_columns"] == ["wind_Nördlich", "wind_Süd"]
    assert table["wind_Süd"].tolist()[:4] == [0, 1, 0, 1]


def test_epoch_file_reads_with_time_unit(tmp_path: Path) -> None:
    path = tmp_path / "epoch.csv"
    hourly(50).assign(time=EPOCH_2024 + 3600 * pd.RangeIndex(50)).to_csv(path, index=False)
    table, report = prepare_with(tmp_path, path, "dataset.time_unit=s")
    assert table.index[0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert report["freq"] == "h" and report["rows_out"] == 50


@pytest.mark.parametrize(
    ("content", "keys", "message"),
    [
        (b"time,y\n2024-01-01,1\n", {"sep": ";"}, r"one column 'time,y'.*dataset.sep=','"),
        (b"time,y\n2024-01-01,1\n", {"encoding": "klingon"}, r"dataset.encoding 'klingon'"),
        ("time,y\n".encode("utf-16"), {}, r"is not utf-8 text.*dataset.encoding=utf-16"),
    ],
)
def test_read_table_says_which_key_to_set(
    tmp_path: Path, content: bytes, keys: dict[str, str], message: str
) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    cfg = validate(compose_config(dataset_overrides(path, []), ROOT / "conf"))
    for key, value in keys.items():
        setattr(cfg.dataset, key, value)
    with pytest.raises(DataError, match=message) as info:
        read_table(cfg.dataset)
    assert "\n" not in str(info.value)
