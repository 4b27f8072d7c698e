"""The README says what the code does: every doctor code documented with the thresholds the
code uses, every file, preset and option it names exists."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstm_doctor.doctor import (
    curve_reading,
    curve_summary,
    data_checks,
    gradient_checks,
    result_checks,
    series_checks,
)

from ..conftest import ROOT

# The README and the reference pages it links to, held to the code alike.
README = "\n".join(
    (ROOT / name).read_text() for name in ("README.md", "docs/reference.md", "docs/scale-out.md")
)
PARAMS = ROOT / "params.yaml"
# What the README tells a user to make for their own data, or shows as a mistake.
USERS_OWN = {"conf/dataset/sales.yaml", "dataset=sales", "optimizer=adamw"}
SOURCES = sorted((ROOT / "src" / "lstm_doctor").rglob("*.py"))


def doctor_table() -> dict[str, str]:
    """The README's table of codes: code -> the rest of its row."""
    rows = re.findall(r"^\| `((?:data|train|model)\.[a-z_]+)` \|(.*)$", README, re.M)
    return dict(rows)


def emitted_codes() -> set[str]:
    """Every code a check can report: the first argument of each Finding(...)."""
    codes = set()
    for file in SOURCES:
        codes |= set(re.findall(r'Finding\(\s*"((?:data|train|model)\.[a-z_]+)"', file.read_text()))
    return codes


def test_every_code_the_doctor_reports_is_documented_and_no_other() -> None:
    assert emitted_codes() == set(doctor_table())


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("data.too_few_windows", f"fewer than {data_checks.MIN_INDEPENDENT_WINDOWS} independent"),
        ("data.outliers", f"beyond {series_checks.OUTLIER_Z:g} robust spreads of their own"),
        ("data.outliers", f"≥ {100 * series_checks.DOMINANT_SHARE:g}% of the target's"),
        ("data.off_grid_rows", f"from {100 * data_checks.OFF_GRID_WARNING_SHARE:g}% of the rows"),
        ("train.majority_class", f"≥ {100 * result_checks.COLLAPSE_SHARE:g}% of answers one class"),
        ("train.not_learning", f"fewer than {curve_summary.MIN_UPDATES} optimiser updates"),
        (
            "train.exploding_gradients",
            f"≥ {gradient_checks.SPIKE:g}× the median of the probed epochs",
        ),
        ("train.step_too_small", f"< 1/{gradient_checks.STEP_FACTOR:g} of the healthy"),
        ("train.step_too_small", f"~{gradient_checks.HEALTHY_STEP:g} of their norm"),
        ("train.step_too_large", f"> {gradient_checks.STEP_FACTOR:g}× the healthy ratio"),
        ("train.slow_convergence", f"> {100 * curve_reading.SLIDING:g}% more off"),
    ],
)
def test_the_thresholds_the_readme_quotes_are_the_codes(code: str, said: str) -> None:
    assert said in doctor_table()[code]


def test_files_the_project_names_exist() -> None:
    texts = [README, *(p.read_text() for p in (ROOT / "conf").rglob("*.yaml"))]
    texts += [p.read_text() for p in (ROOT / "docs").glob("*.md")] + [
        f.read_text() for f in SOURCES
    ]
    named = set()
    for text in texts:
        named |= set(
            re.findall(
                r"\b((?:tests|bench|studies|src|docs|conf)/[\w/.-]+\.(?:py|md|yaml|png))", text
            )
        )
    missing = sorted(n for n in named - USERS_OWN if not (ROOT / n).exists())
    assert not missing


def test_presets_and_group_options_the_readme_names_exist() -> None:
    for group, option in re.findall(r"`?(experiment|dataset|scaling|optimizer)=(\w+)", README):
        if f"{group}={option}" in USERS_OWN:
            continue
        assert (ROOT / "conf" / group / f"{option}.yaml").exists(), f"{group}={option}"


def test_the_default_runs_quoted_numbers_are_the_committed_metrics() -> None:
    """The `make run` output quoted in the README is what reports/evaluation.json (committed by
    the last `dvc repro` of the default) says, to the digits shown."""
    import json

    metrics = json.loads((ROOT / "reports" / "evaluation.json").read_text())
    block = README[README.index("test MAE ") : README.index("outputs: reports")]
    model = metrics["model"]
    assert f"test MAE {model['mae']:.4g}  RMSE {model['rmse']:.4g}" in block
    assert f"MASE {model['mase']:.3f}" in block
    for name, errors in metrics["baselines"].items():
        assert (
            f"{name:<19} MAE {errors['mae']:<7.4g} (skill {metrics['skill'][name]:+.3f})" in block
        )
    assert f"best baseline: {metrics['best_baseline']}" in block


def test_the_claims_counts_the_readme_quotes_are_the_claims_pages() -> None:
    """The README's summary of the claims study's page counts that page's verdicts
    (`python -m studies.claims` writes them), so a rerun that changes a verdict cannot leave
    the README behind."""
    page = (ROOT / "studies" / "claims" / "README.md").read_text()
    table = page.split("\n## ")[0]  # the summary table, before the per-claim sections
    counted = {
        verdict: len(re.findall(rf"\| \*\*{verdict}", table))
        for verdict in ("borne out", "not borne out here", "the opposite here")
    }
    quoted = re.search(
        r"measures (\d+) claims \((\d+) variants.*?(\d+) variants bear their claim out.*?"
        r"(\d+) do not.*?(\d+) go the opposite way",
        " ".join(README.split()),
    )
    assert quoted, "README no longer summarises studies/claims/README.md"
    claims, variants, borne, not_borne, opposite = map(int, quoted.groups())
    assert (borne, not_borne, opposite) == tuple(counted.values())
    assert variants == sum(counted.values())
    assert claims == len(re.findall(r"^## ", page, flags=re.M))


def test_the_doctor_benchmark_table_is_the_benchmark_pages() -> None:
    """The README's per-set scores are the doctor benchmark study's page's
    (`python -m studies.doctor_benchmark` writes it)."""
    page = (ROOT / "studies" / "doctor_benchmark" / "README.md").read_text()
    for label in ("development", "held-out", "fresh held-out"):
        found = re.search(
            rf"\*\*{label} set\*\* \((\d+) scenarios: \d+ induced, (\d+) controls\): detection "
            r"recall ([\d.]+), primary-cause accuracy ([\d.]+), false alarms (\d+/\d+) controls, "
            r"precision ([\d.]+), repair rate [\d.]+ \((\d+/\d+)\)",
            page,
        )
        assert found, f"studies/doctor_benchmark/README.md has no {label} summary"
        n, controls, recall, primary, alarms, precision, repaired = found.groups()
        expected = (
            f"| {label} | {n} ({controls} controls) | {recall} | {primary} | {alarms} | "
            f"{precision} | {repaired} |"
        )
        assert expected in README, expected


# The console lines the pages quote are printed by the program's own formatting code, on the
# committed reports or on a run a test makes. A `<placeholder>` in a quoted line stands for
# what differs from machine to machine (a folder, a run id, a time).
PLACEHOLDER = re.compile(r"<[^<>]+>")


def as_pattern(quoted: str) -> re.Pattern[str]:
    """A quoted console line as a pattern: its text exactly, each placeholder any word."""
    parts = PLACEHOLDER.split(quoted)
    return re.compile(r"\S+".join(re.escape(part) for part in parts))


def fenced_block(starting: str, holding: str = "", text: str = README) -> list[str]:
    """The lines of the fenced block whose first line starts with `starting` and that holds
    `holding`."""
    blocks: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            # A fence opens a block (``` or ```bash) and the next one closes it.
            inside = not inside
            if inside:
                blocks.append([])
        elif inside:
            blocks[-1].append(line)
    for block in blocks:
        joined = "\n".join(block)
        if joined.startswith(starting) and holding in joined:
            return block
    raise AssertionError(f"no quoted block starts with {starting!r} and holds {holding!r}")


def assert_quoted_as_printed(quoted: list[str], printed: list[str]) -> None:
    """Each quoted line is the printed line in its place, placeholders aside."""
    assert len(quoted) == len(printed), (quoted, printed)
    for said, shown in zip(quoted, printed, strict=True):
        assert as_pattern(said).fullmatch(shown), (said, shown)


def committed_epoch_lines(capsys: pytest.CaptureFixture) -> list[str]:
    """What the console printed, epoch by epoch, for the run whose curves are committed
    (reports/curves.csv, one row an epoch), and its early stop (params.yaml's patience)."""
    import yaml

    from lstm_doctor.stages.progress import EpochLines

    training = yaml.safe_load(PARAMS.read_text())["training"]
    curves = pd.read_csv(ROOT / "reports" / "curves.csv")
    lines = EpochLines(training["epochs"], training["early_stopping"]["patience"])
    capsys.readouterr()
    for index, logs in enumerate(curves.drop(columns="epoch").to_dict("records")):
        # Keras hands callbacks the epoch's index (from 0); the seconds are wall-clock, so
        # the quoted line's seconds are matched as any one-decimal number below.
        lines.on_epoch_end(index, {**logs, "epoch_seconds": 0.0})
    lines.on_train_end()
    return capsys.readouterr().out.splitlines()


def test_the_quoted_epoch_lines_are_the_committed_runs(capsys: pytest.CaptureFixture) -> None:
    """The README's epoch line and early stop are lines the default run printed: its losses
    from reports/curves.csv (a line once showed losses six times the real ones)."""
    printed = committed_epoch_lines(capsys)
    quoted = re.findall(r"`(epoch +\d+/\d+ .*?)`", README)
    assert quoted, "README quotes no epoch line"
    seconds = re.compile(r"  \d+\.\d s  ")
    shown = {seconds.sub("  0.0 s  ", line) for line in printed}
    for line in quoted:
        assert seconds.sub("  0.0 s  ", line) in shown, line
    stops = re.findall(r"`(early stopping: .*?)`", README)
    assert stops == [printed[-1]]


def test_the_make_run_summary_is_what_show_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end of `make run` quoted in the README is `lstm-doctor show`'s summary of the
    committed reports/evaluation.json and the healthy diagnosis, line for line."""
    from lstm_doctor.doctor.report import console_summary
    from lstm_doctor.pipeline.summary import summary

    quoted = fenced_block("test MAE ")
    result = json.loads((ROOT / "reports" / "evaluation.json").read_text())
    result["run_id"] = "0123456789abcdef0123456789abcdef"
    # `show` runs in the checkout: a page the run wrote is named by its full path.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "diagnosis.html").write_text("<html></html>")
    printed = summary(result, Path("reports"), f"sqlite:///{tmp_path / 'mlflow.db'}")
    printed += "\n" + console_summary({"verdict": "healthy", "findings": []})
    assert_quoted_as_printed(quoted, printed.splitlines())


def app_output(folder: Path, *overrides: str) -> str:
    """What `lstm-doctor <overrides>` prints, run for real into `folder` and its own store."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "LSTM_DOCTOR_QUIET": "1",
    }
    env.pop("MLFLOW_RUN_ID", None)
    done = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", *overrides,
         f"hydra.run.dir={folder / 'run'}"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_the_quoted_diagnosis_of_unscaled_inputs_is_what_the_run_prints(tmp_path: Path) -> None:
    """The README's console diagnosis is what the run it names prints (the block once
    listed a symptom the run does not show)."""
    quoted = fenced_block("diagnosis: ", "\n  prove the fixes: ")
    command = re.search(r"for `lstm-doctor ([^`]+)`[^`]*:\n\n```\n" + re.escape(quoted[0]), README)
    assert command, "README no longer names the run it quotes"
    printed = app_output(tmp_path, *command.group(1).split()).splitlines()
    start = printed.index(quoted[0])
    assert_quoted_as_printed(quoted, printed[start : start + len(quoted)])


@pytest.mark.slow
def test_the_quoted_diagnosis_of_a_users_script_is_what_it_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The README's lines for examples/unscaled_features.py are what its fit prints, at
    seed 0 as bench/users_scripts.py runs it (they once named one primary cause of two)."""
    import keras

    quoted = fenced_block("diagnosis: ", "\n  try first: standardise each feature")
    monkeypatch.syspath_prepend(str(ROOT / "examples"))
    monkeypatch.chdir(tmp_path)
    import unscaled_features

    keras.utils.set_random_seed(0)
    capsys.readouterr()
    unscaled_features.main(verbose=0)
    printed = capsys.readouterr().out.splitlines()
    start = printed.index(quoted[0])
    assert_quoted_as_printed(quoted, printed[start : start + len(quoted)])


def test_the_quoted_sweep_and_store_lines_are_the_programs_wording() -> None:
    """The sweep's progress line, a stopped sweep's line and a lost store's last line, as
    quoted, are what the program's own formatting says with the quoted values."""
    from lstm_doctor.jobs.sweep_callback import progress_line, stopped_line
    from lstm_doctor.pipeline.log_later import store_lost_line

    # Quoted inline, the line may wrap in the page's source.
    assert f"`{progress_line('16-20-05', 4, 6, 1, 95.0)}`" in " ".join(README.split())
    counts = {"finished": 2, "killed": 2, "failed": 0}
    stopped = stopped_line(Path("multirun/lr"), "SIGINT", counts, "<run id>")
    assert fenced_block("sweep lr: stopped by ") == [stopped]
    lost = store_lost_line(Path("/…/outputs/2026-11-22/06-10-00"), "…")
    assert fenced_block("lstm-doctor: the outputs are complete in ") == [lost]


@pytest.mark.slow
def test_the_quoted_refusal_of_duplicate_timestamps_is_what_the_command_says(
    tmp_path: Path,
) -> None:
    """The reference's example of bad input: the command it shows, on a file with three
    duplicate timestamps (the first at 2024-03-31 02:00), prints the line it quotes."""
    command, said = fenced_block("$ lstm-doctor dataset=csv ")
    hours = pd.date_range("2024-03-30", periods=100, freq="h")
    table = pd.DataFrame({"time": hours, "sales": np.arange(100.0)})
    table = pd.concat([table, table.iloc[26:29]]).sort_values("time", kind="stable")
    table.to_csv(tmp_path / "sales.csv", index=False)
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "lstm_doctor.commands.app", *shlex.split(command)[2:],
         f"hydra.run.dir={tmp_path / 'run'}"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == said


def test_the_quoted_count_of_common_targets_is_the_reports_wording() -> None:
    """A proof's report says how many targets every run shares as the README quotes it."""
    from lstm_doctor.comparison.common_targets import CommonScores

    said = CommonScores(shared={"val": 792, "test": 700}, largest={"val": 792, "test": 720})
    quoted = re.search(r"\(`(val: \d+ of up to \d+; test: )…`\)", " ".join(README.split()))
    assert quoted and quoted.group(1) in said.says()


@pytest.mark.slow
def test_the_quoted_answers_to_bad_overrides_are_what_the_command_says(tmp_path: Path) -> None:
    """The reference's examples of Hydra's errors, said in one line: each override it shows,
    given to the command, prints the words it quotes."""
    quoted = re.findall(r"\(`([^`]+)`: \*([^*]+)\*\)", " ".join(README.split()))
    assert len(quoted) >= 2, "the reference no longer quotes the answers to bad overrides"
    for override, said in quoted:
        done = subprocess.run(
            [sys.executable, "-m", "lstm_doctor.commands.app", override],
            capture_output=True, text=True, cwd=tmp_path, timeout=300,
        )  # fmt: skip
        assert done.returncode == 2 and said in done.stderr, (override, done.stderr[-500:])


def test_every_study_is_a_folder_with_its_readme_and_its_pictures() -> None:
    """studies/<name>/: a runnable module (`python -m studies.<name>`), a README saying what it
    measures and how to rerun it, and every picture that README shows, beside it."""
    studies = sorted(p for p in (ROOT / "studies").iterdir() if (p / "__main__.py").is_file())
    assert len(studies) >= 5
    for study in studies:
        page = (study / "README.md").read_text()
        assert f"python -m studies.{study.name}" in page, study.name
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page):
            assert (study / image).is_file(), f"{study.name}: {image}"
