"""The README says what the code does: every doctor code documented with the thresholds the
code uses, every file, preset and option it names exists."""

from __future__ import annotations

import re

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
        ("train.exploding_gradients", f"≥ {gradient_checks.SPIKE:g}× the median of the epochs"),
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
            re.findall(r"\b((?:tests|bench|src|docs|conf)/[\w/.-]+\.(?:py|md|yaml))", text)
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
    """The README's summary of docs/claims.md counts that page's verdicts (bench/claims.py
    writes them), so a rerun that changes a verdict cannot leave the README behind."""
    page = (ROOT / "docs" / "claims.md").read_text()
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
    assert quoted, "README no longer summarises docs/claims.md"
    claims, variants, borne, not_borne, opposite = map(int, quoted.groups())
    assert (borne, not_borne, opposite) == tuple(counted.values())
    assert variants == sum(counted.values())
    assert claims == len(re.findall(r"^## ", page, flags=re.M))


def test_the_doctor_benchmark_table_is_the_benchmark_pages() -> None:
    """The README's per-set scores are docs/doctor-benchmark.md's (bench/scenarios.py)."""
    page = (ROOT / "docs" / "doctor-benchmark.md").read_text()
    for label in ("development", "held-out", "fresh held-out"):
        found = re.search(
            rf"\*\*{label} set\*\* \((\d+) scenarios: \d+ induced, (\d+) controls\): detection "
            r"recall ([\d.]+), primary-cause accuracy ([\d.]+), false alarms (\d+/\d+) controls, "
            r"precision ([\d.]+), repair rate [\d.]+ \((\d+/\d+)\)",
            page,
        )
        assert found, f"docs/doctor-benchmark.md has no {label} summary"
        n, controls, recall, primary, alarms, precision, repaired = found.groups()
        expected = (
            f"| {label} | {n} ({controls} controls) | {recall} | {primary} | {alarms} | "
            f"{precision} | {repaired} |"
        )
        assert expected in README, expected
