"""What the doctor reports: a `Finding` (code, severity, evidence, explanation, fixes) and the
verdict over a run's findings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Finding:
    """One named problem, the numbers behind it, and overrides that may fix it (best first)."""

    code: str
    severity: str  # info | warning | error
    evidence: dict[str, Any]
    explanation: str
    fixes: list[str] = field(default_factory=list)
    # The serious findings present that can produce this one (causes.link fills it).
    explained_by: list[str] = field(default_factory=list)
    # 1-based epochs of the curves that triggered it, for plots to mark.
    epochs: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(findings: list[Finding]) -> str:
    """`healthy` when nothing is a warning or worse, else `sick`."""
    return "sick" if any(f.severity in ("warning", "error") for f in findings) else "healthy"


def ranked(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; stable within a severity."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])
