"""The diagnosis said to a person: the prescriptions in order, the exact command to try,
diagnosis.md as a colleague would write it, and the lines at the end of a run."""

from __future__ import annotations

from typing import Any

from lstm_doctor.config.overrides import command as as_command
from lstm_doctor.config.overrides import key_of, merge


def prescriptions(result: dict[str, Any], limit: int = 3) -> list[str]:
    """The first fix of each warning or error, most severe first, without repeats; a fix
    setting a key an earlier one set (model.units=64, then model.units=128) is skipped, so
    the prescriptions can be combined."""
    fixes: list[str] = []
    taken: set[str] = set()
    for finding in result["findings"]:
        if finding["severity"] == "info" or not finding["fixes"]:
            continue
        fix = finding["fixes"][0]
        keys = {key_of(part) for part in fix.split()}
        if fix not in fixes and not keys & taken:
            fixes.append(fix)
            taken |= keys
    return fixes[:limit]


def try_command(overrides: list[str], fix: str) -> str:
    """The exact command that tries a fix on top of the run's own overrides."""
    return as_command(merge(overrides, fix))


def to_markdown(result: dict[str, Any]) -> str:
    """The diagnosis as a colleague would say it: what was seen, why it matters, what to try."""
    lines = [f"# Diagnosis: {result['verdict']}", ""]
    if result["run_id"]:
        lines += [f"MLflow run `{result['run_id']}`.", ""]
    serious = [f for f in result["findings"] if f["severity"] != "info"]
    if not serious:
        lines += ["Nothing a warning's worth: the data look usable, the curves fall and settle, "
                  "and the model beats the naive baselines.", ""]  # fmt: skip
    fixes = prescriptions(result, limit=1)
    if serious and fixes:
        first = next(f for f in serious if fixes[0] in f["fixes"])
        lines += [
            f"In short: {len(serious)} problem{'s' * (len(serious) > 1)} "
            f"({', '.join(f['code'] for f in serious)}). Start with `{first['code']}`; "
            "try first:",
            "",
            f"    {try_command(result['overrides'], fixes[0])}",
            "",
        ]
    for f in result["findings"]:
        lines += [f"## {f['severity'].upper()}: `{f['code']}`", "", f["explanation"], ""]
        evidence = ", ".join(f"{k} = {_fmt(v)}" for k, v in f["evidence"].items())
        lines += [f"*Seen:* {evidence}", ""]
        if f["fixes"]:
            lines.append("*Try, in this order:*")
            lines += [f"1. `{try_command(result['overrides'], fix)}`" for fix in f["fixes"]]
            lines.append("")
    if serious and result["run_id"]:
        lines += [
            "## Prove it",
            "",
            "Run the prescribed fixes against this configuration over 3 seeds and see which "
            "improve beyond seed noise:",
            "",
            f"    lstm-doctor fix {result['run_id']}",
            "",
        ]
    return "\n".join(lines)


def console_summary(result: dict[str, Any]) -> str:
    """Three or four lines for the end of a run."""
    if result["verdict"] == "healthy":
        notes = [f["code"] for f in result["findings"]]
        return "diagnosis: healthy" + (f" (notes: {', '.join(notes)})" if notes else "")
    lines = [
        "diagnosis: "
        + ", ".join(
            f"{f['code']} ({f['severity']})" for f in result["findings"] if f["severity"] != "info"
        )
    ]
    fixes = prescriptions(result)
    if fixes:
        lines.append("  try first: " + try_command(result["overrides"], fixes[0]))
    if result["run_id"]:
        lines.append(
            f"  prove the fixes: lstm-doctor fix {result['run_id']}   (details: diagnosis.md)"
        )
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def summary_paragraph(result: dict[str, Any]) -> str:
    """The diagnosis in one paragraph: the verdict, the problems, what to try first (the
    run's description in the MLflow UI)."""
    serious = [f for f in result["findings"] if f["severity"] != "info"]
    if not serious:
        return (
            "Diagnosis: healthy. The data look usable, the curves fall and settle, and the "
            "model beats every baseline."
        )
    fixes = prescriptions(result, limit=1)
    text = (
        f"Diagnosis: {result['verdict']}. {len(serious)} problem{'s' * (len(serious) > 1)}: "
        + ", ".join(f"{f['code']} ({f['severity']})" for f in serious)
        + f". {serious[0]['explanation']}"
    )
    if fixes:
        text += f" Try first: `{try_command(result['overrides'], fixes[0])}`."
    return text
