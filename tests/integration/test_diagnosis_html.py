"""diagnosis.html: written beside diagnosis.json by a real tiny run, logged into its MLflow
run, offline (no URL the page could fetch), drawn by headless Chromium; and, from a made-up
diagnosis, the primary cause and its command before the symptoms, every text escaped."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from lstm_doctor.base.workspace import StagePaths
from lstm_doctor.commands import ui_check
from lstm_doctor.doctor import html_report

from ..conftest import tiny_config, tiny_run


@pytest.fixture(scope="module")
def sick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, StagePaths, str]:
    """One tiny forecasting run with too large a step, so the page has findings to show."""
    return tiny_run(tmp_path_factory.mktemp("html"), "optimizer.lr=0.5", progress=False)


def test_a_run_writes_its_diagnosis_page_offline_and_logs_it(sick_run) -> None:
    result, paths, uri = sick_run
    page = paths.reports / "diagnosis.html"
    assert page.exists()
    assert sorted(p.name for p in paths.reports.glob(".diagnosis*")) == []  # no temp left
    text = page.read_text()
    diagnosis = result["diagnosis"]
    assert f"Diagnosis: {diagnosis['verdict']}" in text
    for code in diagnosis["codes"]:
        assert code in text, code
    assert "<svg" in text or "data:image/png" in text
    # The test span, the learning curves, the monitors, the autocorrelation and the split
    # histograms; the results in numbers: the model against every baseline.
    assert text.count("<svg") == 5
    assert "Results on the test span" in text and 'class="results"' in text
    for name, errors in result["baselines"].items():
        assert f"<code>{name}" in text and f"{errors['mae']:.4g}" in text
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"""(src|href)=["'](?!#|data:)""", text)  # nothing to fetch
    logged = {a.path for a in MlflowClient(uri).list_artifacts(result["run_id"])}
    assert "diagnosis.html" in logged


def test_chromium_draws_the_page(sick_run, tmp_path: Path) -> None:
    if ui_check.chromium() is None:
        pytest.skip("chromium is not installed")
    _, paths, _ = sick_run
    screenshot = tmp_path / "diagnosis.png"
    dom = ui_check.render((paths.reports / "diagnosis.html").as_uri(), screenshot, 1100, 1400)
    assert "Diagnosis:" in dom
    pixels = matplotlib.image.imread(screenshot)[..., :3]
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 100, f"only {len(colours)} colours: a blank page?"


SCRIPT = "<script>alert(1)</script>"


def made_up_result(**changes: object) -> dict:
    """A diagnosis as the doctor writes it: one cause, a symptom it explains directly and
    one it explains through that symptom, a note; text a browser would run if unescaped."""
    finding = {"severity": "warning", "evidence": {}, "fixes": [], "explained_by": []}
    result = {
        "verdict": "sick",
        "primary": ["data.unscaled_features"],
        "first_fix": "scaling=standard",
        "first_command": "lstm-doctor seed=1 scaling=standard",
        "run_id": "abc123",
        "overrides": ["seed=1"],
        "findings": [
            finding | {"code": "data.unscaled_features", "severity": "error",
                       "evidence": {"ratio": 1e6, "note": SCRIPT}, "fixes": ["scaling=standard"],
                       "explanation": f"Inputs {SCRIPT} differ by six orders of magnitude."},
            finding | {"code": "train.vanishing_gradients", "epochs": [2, 3],
                       "explained_by": ["data.unscaled_features"],
                       "explanation": "The gradients shrank to nothing."},
            finding | {"code": "train.no_better_than_naive", "fixes": ["model.units=64"],
                       "evidence": {"best_val_epoch": 4},
                       "explained_by": ["train.vanishing_gradients"],
                       "explanation": "A lookup does as well."},
            finding | {"code": "model.note", "severity": "info", "explanation": "A note."},
        ],
    }  # fmt: skip
    result["codes"] = [f["code"] for f in result["findings"]]
    return result | changes


def curves(epochs: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    decay = np.exp(-np.arange(epochs) / 2)
    history = pd.DataFrame({"epoch": range(epochs), "loss": decay, "val_loss": decay + 0.1})
    monitors = pd.DataFrame(
        {"grad_norm": decay, "grad_norm/lstm_0": decay / 2, "update_ratio/lstm_0": decay / 100,
         "step_ratio/lstm_0": decay / 50, "probe_loss": decay}
    )  # fmt: skip
    return history, monitors


def test_the_page_leads_with_the_cause_and_escapes_text(tmp_path: Path) -> None:
    paths = StagePaths.job(tmp_path)  # no data written: the series plots are left out
    page = html_report.write(made_up_result(), tiny_config(), paths, *curves())
    assert page == paths.reports / "diagnosis.html"
    assert [p.name for p in paths.reports.iterdir()] == ["diagnosis.html"]
    text = page.read_text()
    symptoms = text.index("Symptoms")
    assert text.index("data.unscaled_features") < symptoms
    assert text.index("lstm-doctor seed=1 scaling=standard") < symptoms
    assert text.index("lstm-doctor fix abc123") < symptoms
    listed = text[symptoms : text.index("</ul>", symptoms)]
    # Both symptoms under their one cause, the second reached through the first.
    assert "train.vanishing_gradients" in listed and "train.no_better_than_naive" in listed
    assert "follow from <code>data.unscaled_features</code>" in listed
    assert SCRIPT not in text and "&lt;script&gt;" in text
    # Each finding's epochs marked on the learning curves, labelled by its code.
    curve = text[text.index("<svg") : text.index("</svg>")]
    assert "train.vanishing_gradients" in curve and "train.no_better_than_naive" in curve
    assert text.count("<svg") == 2  # the curves and the monitors
    assert "http://" not in text and "https://" not in text


def test_an_older_diagnosis_still_names_a_cause_and_a_command(tmp_path: Path) -> None:
    """Without primary, first_fix and first_command the page falls back on the prescriptions."""
    old = made_up_result()
    for key in ("primary", "first_fix", "first_command"):
        del old[key]
    for finding in old["findings"]:
        del finding["explained_by"]
    history, _ = curves()
    page = html_report.write(old, tiny_config(), StagePaths.job(tmp_path), history, pd.DataFrame())
    text = page.read_text()
    assert "Primary cause" in text and "Symptoms" not in text
    assert "lstm-doctor seed=1 scaling=standard" in text
    assert text.count("<svg") == 1
