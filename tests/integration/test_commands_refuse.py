"""Commands refuse what they would ignore or misread, in one line with exit status 2:
keys a command does not use, a new mapping entry without Hydra's '+', a plain value where
params.yaml needs a section; and every command answers --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lstm_doctor.commands.app import SUBCOMMANDS

from ..conftest import cli
from .test_bad_input import (
    assert_one_line_error,
    run_app,
    run_stage,
    write_params,
)


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, timeout=120)


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_command_answers_help(name: str) -> None:
    result = command(name, "--help")
    assert result.returncode == 0, result.stderr
    assert f"usage: lstm-doctor {name}" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["show", "model.units=3"], ["show uses only tracking.*", "'model.units=3'"]),
        (["sync", ".", "scaling=none"], ["sync uses only tracking.*", "'scaling=none'"]),
        (["compare", "x", "window.length=5"], ["compare uses only tracking.*"]),
    ],
)
def test_a_key_the_command_does_not_use_is_refused(args: list[str], fragments: list[str]) -> None:
    assert_one_line_error(command(*args), *fragments)


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--season", "0"], "season (--season) is 0"),
        (["--season", "-3"], "season (--season) is -3"),
        (["--target-index", "-1"], "target_index (--target-index) is -1"),
    ],
)
def test_diagnose_refuses_a_count_it_would_misread(
    option: list[str], named: str, tmp_path: Path
) -> None:
    history = tmp_path / "history.csv"
    history.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.8,0.9\n")
    result = command("diagnose", str(history), "--out", str(tmp_path / "out"), *option)
    assert_one_line_error(result, named)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("port", ["0", "-1", "70000"])
def test_server_refuses_a_port_that_is_none(port: str, tmp_path: Path) -> None:
    result = cli("server", "--port", port, "--store", f"sqlite:///{tmp_path / 's.db'}",
                 "--artifacts", str(tmp_path / "a"), timeout=60)  # fmt: skip
    assert_one_line_error(result, f"--port {port}: a port is 1 to 65535")


def test_new_select_entry_without_plus_is_named(tmp_path: Path) -> None:
    result = run_app(tmp_path, "dataset.select.y=5")
    assert_one_line_error(result, "'dataset.select.y' is a new entry", "'+dataset.select.y=5'")


def test_params_yaml_with_a_value_for_a_section_names_the_key(tmp_path: Path) -> None:
    write_params(tmp_path)
    params = tmp_path / "params.yaml"
    text = params.read_text()
    start = text.index("\nwindow:")
    end = text.index("\nmodel:")
    params.write_text(text[:start] + "\nwindow: 5" + text[end:])
    assert_one_line_error(run_stage(tmp_path, "window"), "config key 'window' is 5", "section")


# What a command loads before it refuses its arguments is what the user waits for: none of
# the heavy libraries is needed to say a value or a key is wrong.
HEAVY = ("mlflow", "tensorflow", "keras", "pandas", "scipy", "sklearn", "matplotlib")
LOADED_AT_EXIT = """
import sys
sys.argv = ["lstm-doctor", *sys.argv[1:]]
from lstm_doctor.commands.app import main
try:
    main()
except SystemExit as exc:
    status = exc.code
print(status, sorted(m for m in {heavy} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["model.nope=1"],
        ["seed=-1"],
        ["model.dense_units=-1"],
        ["training.early_stopping.monitor=val_los"],
        ["show", "model.units=3"],
        ["sync", ".", "scaling=none"],
        ["compare", "x", "window.length=5"],
        ["fix", "last", "--seeds", "0"],
        ["prove", "--help"],
    ],
    ids=lambda args: " ".join(args),
)
def test_a_refusal_comes_before_the_heavy_libraries_load(args: list[str]) -> None:
    code = LOADED_AT_EXIT.format(heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    status, loaded = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status in {"0", "2"}, result.stderr
    assert loaded == "[]", (args, loaded)
