"""The diagnosis said to a person: the primary cause first with the one fix to try, the
symptoms that follow from it in a line each, the exact command once; diagnosis.md as a
colleague would write it, and the lines at the end of a run."""

from __future__ import annotations

from typing import Any

from lstm_doctor.config.overrides import command as as_command
from lstm_doctor.config.overrides import key_of, merge


def serious_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The warnings and errors, in the result's order."""
    return [f for f in result["findings"] if f["severity"] != "info"]


def primaries(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The primary-cause findings, in the diagnosis' order of primaries (older diagnoses
    without a differential: every warning or error)."""
    by_code = {f["code"]: f for f in result["findings"]}
    codes = result.get("primary")
    if codes is None:
        return serious_findings(result)
    return [by_code[c] for c in codes if c in by_code]


def symptoms(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The serious findings another finding explains."""
    first = {f["code"] for f in primaries(result)}
    return [f for f in serious_findings(result) if f["code"] not in first]


def prescriptions(result: dict[str, Any], limit: int = 3) -> list[str]:
    """The first fix of each primary cause, then of each symptom, without repeats; a fix
    setting a key an earlier one set (model.units=64, then model.units=128) is skipped, so
    the prescriptions can be combined."""
    fixes: list[str] = []
    taken: set[str] = set()
    for finding in primaries(result) + symptoms(result):
        if not finding["fixes"]:
            continue
        fix = finding["fixes"][0]
        keys = {key_of(part) for part in fix.split()}
        if fix not in fixes and not keys & taken:
            fixes.append(fix)
            taken |= keys
    return fixes[:limit]


def first_prescription(result: dict[str, Any]) -> str | None:
    """The one fix to try first: the primary cause's (the next primary's when it has none)."""
    return next(iter(prescriptions(result, limit=1)), None)


def try_command(overrides: list[str], fix: str) -> str:
    """The exact command that tries a fix on top of the run's own overrides."""
    return as_command(merge(overrides, fix))


def _cause_names(result: dict[str, Any]) -> str:
    return " and ".join(f"`{f['code']}`" for f in primaries(result))


def to_markdown(result: dict[str, Any]) -> str:
    """The diagnosis as a colleague would say it: the cause, what follows from it, what to
    try (the overrides, and the full command once), then the notes."""
    lines = [f"# Diagnosis: {result['verdict']}", ""]
    if result["run_id"]:
        lines += [f"MLflow run `{result['run_id']}`.", ""]
    if not serious_findings(result):
        lines += ["Nothing a warning's worth: the data look usable, the curves fall and settle, "
                  "and the model beats every baseline.", ""]  # fmt: skip
    causes, follow = primaries(result), symptoms(result)
    fix = first_prescription(result)
    if causes:
        many = len(causes) > 1
        lines += [f"## Primary cause{'s' * many}: {_cause_names(result)}", ""]
        for f in causes:
            lines += _finding(f, heading=many)
        if fix:
            lines += ["**Try first:**", "", f"    {try_command(result['overrides'], fix)}", ""]
        else:  # the honest prescription when the cause is in the data's nature
            lines += ["No configuration change is prescribed: none addresses this cause.", ""]
    if follow:
        lines += [
            "## What follows from it",
            "",
            f"These usually follow from {_cause_names(result)}; look again after fixing it:",
            "",
        ]
        for f in follow:
            by = ", ".join(f"`{c}`" for c in f.get("explained_by", []))
            lines.append(f"- `{f['code']}` ({f['severity']}, from {by}): {f['explanation']}")
        lines.append("")
    notes = [f for f in result["findings"] if f["severity"] == "info"]
    if notes:
        lines += ["## Notes", ""]
        for f in notes:
            lines += _finding(f, heading=True)
    if causes and result["run_id"] and fix:
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


def _finding(f: dict[str, Any], heading: bool) -> list[str]:
    """One finding: what was seen, why it matters, its fixes as overrides."""
    lines = [f"### {f['severity'].upper()}: `{f['code']}`", ""] if heading else []
    lines += [f["explanation"], ""]
    evidence = ", ".join(f"{k} = {format_value(v)}" for k, v in f["evidence"].items())
    lines += [f"*Seen:* {evidence}", ""]
    if f["fixes"]:
        lines += ["*Fixes, best first:* " + " · ".join(f"`{fix}`" for fix in f["fixes"]), ""]
    return lines


def console_summary(result: dict[str, Any]) -> str:
    """Three or four lines for the end of a run: the cause, what follows, what to try."""
    if result["verdict"] == "healthy":
        notes = [f["code"] for f in result["findings"]]
        return "diagnosis: healthy" + (f" (notes: {', '.join(notes)})" if notes else "")
    causes = primaries(result)
    follow = symptoms(result)
    lines = ["diagnosis: " + ", ".join(f"{f['code']} ({f['severity']})" for f in causes)]
    if follow:
        lines.append("  follows from it: " + ", ".join(f["code"] for f in follow))
    fix = first_prescription(result)
    if fix:
        lines.append("  try first: " + try_command(result["overrides"], fix))
    elif causes:
        lines.append("  no configuration change is prescribed: none addresses this cause")
    if result["run_id"] and fix:
        lines.append(
            f"  prove the fixes: lstm-doctor fix {result['run_id']}   (details: diagnosis.md)"
        )
    return "\n".join(lines)


def format_value(value: Any) -> str:
    """A number or mapping of evidence, said briefly (floats to 4 significant digits)."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def summary_paragraph(result: dict[str, Any]) -> str:
    """The diagnosis in one paragraph: the verdict, the cause, what follows from it, what to
    try first (the run's description in the MLflow UI)."""
    if not serious_findings(result):
        return (
            "Diagnosis: healthy. The data look usable, the curves fall and settle, and the "
            "model beats every baseline."
        )
    causes, follow = primaries(result), symptoms(result)
    text = (
        f"Diagnosis: {result['verdict']}. Primary cause: "
        + ", ".join(f"{f['code']} ({f['severity']})" for f in causes)
        + f". {causes[0]['explanation']}"
    )
    if follow:
        text += " Follows from it: " + ", ".join(f["code"] for f in follow) + "."
    fix = first_prescription(result)
    if fix:
        text += f" Try first: `{try_command(result['overrides'], fix)}`."
    return text
