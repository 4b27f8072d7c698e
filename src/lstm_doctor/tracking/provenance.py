"""Where a run came from: its task, dataset, the data's digest, git commit and DVC
experiment, as tags."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from lstm_doctor.config import Config


def run_tags(cfg: Config) -> dict[str, str]:
    """Tags that say where a run came from: git commit, data hash, task, DVC experiment."""
    tags = {
        "task": cfg.dataset.task,
        "dataset": cfg.dataset.name,
        "data_sha256": _hash_files(cfg.dataset.files),
    }
    commit = _git_commit()
    if commit:
        tags["mlflow.source.git.commit"] = commit
        tags["git_commit"] = commit
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc_experiment"] = os.environ["DVC_EXP_NAME"]
    return tags


def _hash_files(files: list[Path]) -> str:
    """The data's digest; a file that is not there is left to prepare to report (in one
    line, into a FAILED run) rather than failing here before the run exists."""
    digest = hashlib.sha256()
    for file in files:
        if not file.is_file():
            return "missing"
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
