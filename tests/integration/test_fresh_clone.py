"""A fresh clone is what the README promises: `dvc status` finds every stage up to date
(dvc.lock matches the committed code, data and params), with no change in the checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DVC = shutil.which("dvc") or str(ROOT / ".venv" / "bin" / "dvc")


@pytest.mark.slow
def test_dvc_status_of_a_fresh_clone_is_up_to_date(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    # The clone has no cache and no outputs: status compares dvc.lock with the committed
    # deps and params only (outputs are "deleted", never "changed").
    result = subprocess.run(
        [DVC, "status", "--json"], cwd=clone, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    # An upstream stage's output is a dependency the clone lacks ("deleted"): not a change.
    changed = {
        stage: entries
        for stage, entries in json.loads(result.stdout or "{}").items()
        if any(
            "changed params" in e
            or any(state != "deleted" for state in e.get("changed deps", {}).values())
            for e in entries
            if isinstance(e, dict)
        )
    }
    assert not changed, f"dvc.lock is stale for {sorted(changed)}: run `dvc repro` and commit it"
    porcelain = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert porcelain.stdout == ""
