"""The MLflow UI in a real browser: served on 127.0.0.1, rendered by headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from lstm_doctor.commands.ui_check import check_ui, chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(chromium() is None, reason="needs Debian's chromium (.ci/run installs it)"),
]


def test_ui_shows_the_sweep_runs_their_comparison_and_curves(sweep) -> None:
    folder, uri, result = sweep
    assert result.returncode == 0
    out = folder / "ui"
    checked = check_ui(uri, out, sweep="lr_sweep")
    assert checked["runs"] == 6  # the 2 diverged jobs show their partial curves too
    for name in ("runs.png", "compare.png", "curves.png"):
        assert (out / name).stat().st_size > 20_000, name
    assert "#/compare-runs?runs=" in checked["pages"]["compare"]
    # The run page shows what fed the run, the diagnosis and the version registered from it.
    assert checked["run_page"]["datasets"] == ["electricity"]
    assert checked["run_page"]["registered_models"] == ["sweep-model"]
    assert str(checked["run_page"]["description"]).startswith("Diagnosis: ")
    assert (out / "run.png").stat().st_size > 20_000


def test_ui_check_fails_on_an_experiment_that_is_not_there(sweep, tmp_path: Path) -> None:
    from lstm_doctor.commands.ui_check import UICheckFailed

    _, uri, _ = sweep
    with pytest.raises(UICheckFailed, match="no experiment 'nope'"):
        check_ui(uri, tmp_path, experiment="nope")
