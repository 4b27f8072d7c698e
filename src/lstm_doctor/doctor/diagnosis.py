"""Gather a run's data, curves, monitors and metrics; write its diagnosis.

Writes <reports>/diagnosis.json (verdict, findings with code, severity, evidence,
explanation, ranked fixes) and diagnosis.md (the same, said as a colleague would), and
returns a short console summary.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstm_doctor.base.metrics import CALENDAR_COLUMNS, calendar_spans
from lstm_doctor.base.stage_meta import ScaledMeta, WindowsMeta
from lstm_doctor.base.workspace import (
    DIAGNOSIS_JSON,
    DIAGNOSIS_MD,
    FIT_SIZES,
    MONITORS_FILE,
    PREPARE_REPORT,
    PREPARED_TABLE,
    SCALED_SERIES,
    SEQUENCES,
    StagePaths,
    read_json,
    write_json,
)
from lstm_doctor.config import Config
from lstm_doctor.doctor import (
    causes,
    curve_summary,
    data_checks,
    gradient_checks,
    result_checks,
    series_checks,
    training_checks,
)
from lstm_doctor.doctor.evidence import Evidence
from lstm_doctor.doctor.findings import Finding, ranked, verdict
from lstm_doctor.doctor.moot_fixes import RanWith, changes_run
from lstm_doctor.doctor.report import first_prescription, to_markdown, try_command


def data_findings(cfg: Config, paths: StagePaths) -> list[Finding]:
    """Checks on the prepared and scaled data, before any training."""
    report = read_json(paths.prepared / PREPARE_REPORT)
    scaled, windows = ScaledMeta.read(paths), WindowsMeta.read(paths)
    bounds = scaled.bounds
    findings: list[Finding] = []
    if scaled.task == "classify":
        arrays = np.load(paths.prepared / SEQUENCES)
        findings += data_checks.check_scales(arrays["x_train"], scaled.columns, cfg)
        findings += data_checks.check_classes(report["class_counts"], report["classes"])
        missing = {"missing": {}, "missing_after": int(np.isnan(arrays["x_train"]).sum())}
        findings += data_checks.check_missing(missing, len(arrays["x_train"]), cfg)
    else:
        table = pd.read_parquet(paths.prepared / PREPARED_TABLE)
        columns = [
            c
            for c in table.columns
            if c not in CALENDAR_COLUMNS and c not in report.get("encoded_columns", [])
        ]
        lo, hi = bounds["train"]
        findings += data_checks.check_scales(
            table[columns].to_numpy(dtype=float)[lo:hi], columns, cfg
        )
        findings += data_checks.check_missing(report, len(table), cfg)
        findings += data_checks.check_off_grid(report)
        target = table[cfg.dataset.target].to_numpy(dtype=float)[lo:hi]
        freq = scaled.freq or report.get("freq")
        season, _ = series_checks.dominant_season(target, scaled.period, freq)
        findings += series_checks.check_outliers(table, columns, cfg, (lo, hi), season)
        calendar = calendar_spans(table.columns)
        findings += series_checks.check_window(target, scaled.period, cfg, calendar, freq)
        values = np.load(paths.scaled / SCALED_SERIES)["values"]
        findings += series_checks.check_shift(values[:, 0].astype(float), bounds, cfg)
    findings += data_checks.check_leakage(bounds, cfg)
    findings += data_checks.check_window_count(
        windows.counts, scaled.train_steps, windows.span, scaled.task, cfg.dataset.max_rows,
        windows.length, scaled.period, rows_available(report),
    )  # fmt: skip
    return findings


def run_findings(evidence: Evidence) -> list[Finding]:
    """Checks on the curves, the monitors and (when there are any) the held-out metrics."""
    cfg, history, monitors = evidence.cfg, evidence.history, evidence.monitors
    loss = history["loss"].to_numpy(dtype=float) if "loss" in history else np.empty(0)
    train_windows = evidence.train_windows
    steps = curve_summary.steps_per_epoch(train_windows, cfg) if train_windows else None
    findings = training_checks.check_divergence(loss, cfg)
    findings += training_checks.check_curves(history, cfg, steps, monitors)
    findings += gradient_checks.check_gradients(monitors, cfg)
    symptoms = {f.code for f in findings}
    findings += gradient_checks.check_step_size(monitors, cfg, symptoms, history)
    if evidence.metrics is not None:
        findings += result_checks.check_results(evidence.metrics, history, cfg, evidence.period)
    findings += result_checks.check_model(cfg)
    return findings


def judge(evidence: Evidence) -> dict[str, Any]:
    """The diagnosis of any run's evidence: findings ranked, linked and given a verdict."""
    findings = evidence.data + run_findings(evidence)
    if evidence.origin == "pipeline":  # a script's fixes are not overrides of a config
        findings = prune_fixes(findings, evidence.cfg, evidence.configured, evidence.ran)
    findings = ranked(findings)
    primary = causes.link(findings)
    return {
        "verdict": verdict(findings),
        "primary": primary,
        "codes": [f.code for f in findings],
        "findings": [f.as_dict() for f in findings],
        "run_id": evidence.run_id,
        "overrides": evidence.overrides,
        # What the data decided beside the config, so a proof's screen tries no moot change.
        "ran": asdict(evidence.ran) if evidence.ran else None,
    }


def pipeline_evidence(
    cfg: Config,
    paths: StagePaths,
    history: pd.DataFrame,
    monitors: pd.DataFrame,
    metrics: dict[str, Any] | None,
    run_id: str | None,
    overrides: list[str] | None = None,
) -> Evidence:
    """The pipeline's adapter: its stage files and the run's curves as the doctor's input.
    The checks judge the batch and patience the run trained with (models/fit_sizes.json,
    resolved from the data's size), not only the configured ones."""
    scaled = ScaledMeta.read(paths)
    train_windows = WindowsMeta.read(paths).counts["train"]
    return Evidence(
        cfg=as_trained(cfg, paths),
        history=history,
        monitors=monitors,
        metrics=metrics,
        period=scaled.period,
        train_windows=train_windows,
        data=data_findings(cfg, paths),
        run_id=run_id,
        overrides=overrides or [],
        configured=cfg,
        ran=RanWith(
            task=scaled.task,
            rows_available=rows_available(read_json(paths.prepared / PREPARE_REPORT)),
            train_windows=train_windows,
            epochs_run=len(history),
            lr_cut=lr_cut(history),
        ),
    )


def rows_available(report: dict[str, Any]) -> int | None:
    """The rows a forecaster's file held before `dataset.max_rows` cut them (prepare's
    report: the rows selected, less the duplicate timestamps dropped before the cut)."""
    if "rows_available" in report:
        return int(report["rows_available"])
    if "rows_selected" not in report:
        return None
    return int(report["rows_selected"]) - int(report.get("duplicates_dropped", 0))


def lr_cut(history: pd.DataFrame) -> bool | None:
    """Whether the run's learning rate ever changed (the plateau schedule cut it)."""
    if "learning_rate" not in history or history["learning_rate"].isna().all():
        return None
    rates = history["learning_rate"].dropna().to_numpy(dtype=float)
    return not bool(np.allclose(rates, rates[0], rtol=1e-3))


def as_trained(cfg: Config, paths: StagePaths) -> Config:
    """`cfg` with the batch size and patience train resolved for the data in their place."""
    file = paths.models / FIT_SIZES
    if not file.exists():
        return cfg
    sizes, t = read_json(file), cfg.training
    training = replace(
        t,
        batch_size=sizes["batch_size"],
        early_stopping=replace(t.early_stopping, patience=sizes["early_stopping_patience"]),
        reduce_lr=replace(t.reduce_lr, patience=sizes["reduce_lr_patience"]),
    )
    return replace(cfg, training=training)


def diagnose(
    cfg: Config,
    paths: StagePaths,
    history: pd.DataFrame,
    monitors: pd.DataFrame,
    metrics: dict[str, Any] | None,
    run_id: str | None,
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """Every check; writes diagnosis.json and diagnosis.md into the reports folder."""
    result = judge(pipeline_evidence(cfg, paths, history, monitors, metrics, run_id, overrides))
    fix = first_prescription(result)
    result["first_fix"] = fix
    result["first_command"] = try_command(result["overrides"], fix) if fix else None
    paths.reports.mkdir(parents=True, exist_ok=True)
    write_json(paths.reports / DIAGNOSIS_JSON, result)
    (paths.reports / DIAGNOSIS_MD).write_text(to_markdown(result))
    from lstm_doctor.doctor import html_report  # matplotlib loads only when a run is diagnosed

    html_report.write(result, cfg, paths, history, monitors)
    return result


GROUP_VALUE = {
    "dataset": "dataset.name",
    "scaling": "scaling.method",
    "optimizer": "optimizer.name",
}


def in_effect(fix: str, cfg: Config) -> bool:
    """Whether a fix's overrides are what the config already says (no point prescribing it)."""
    from lstm_doctor.config.access import value_at

    for part in fix.split():
        key, _, value = part.partition("=")
        current = value_at(cfg, GROUP_VALUE.get(key, key), default="<unset>")
        if str(current).lower() != value.lower() and not _same_number(current, value):
            return False
    return True


def _same_number(a: Any, b: str) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def valid_fix(fix: str, cfg: Config) -> bool:
    """Whether the run's config with the fix's key overrides applied still validates (a
    group option such as scaling=standard is a valid config by construction)."""
    from lstm_doctor.config.overrides import key_of
    from lstm_doctor.doctor.moot_fixes import with_fix

    keys = " ".join(part for part in fix.split() if "." in key_of(part))
    return not keys or with_fix(cfg, keys) is not None


def prune_fixes(
    findings: list[Finding],
    cfg: Config,
    configured: Config | None = None,
    ran: RanWith | None = None,
) -> list[Finding]:
    """Drop prescribed fixes the run already had, any that would make it invalid, and
    (given the config as configured and what the run decided) any that would resolve to
    the very run it was (moot_fixes)."""
    for finding in findings:
        finding.fixes = [
            f
            for f in finding.fixes
            if not in_effect(f, cfg)
            and valid_fix(f, cfg)
            and (configured is None or ran is None or changes_run(f, configured, ran))
        ]
    return findings


def read_monitors(folder: Path) -> pd.DataFrame:
    """The per-epoch monitor records train saved, or an empty frame."""
    file = folder / MONITORS_FILE
    return pd.read_csv(file) if file.exists() else pd.DataFrame()
