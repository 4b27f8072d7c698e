"""Hydra multirun sweeps as MLflow parent runs: one parent per sweep, one child per job.

Registered in conf/config.yaml under hydra.callbacks. The parent's id is written to
<sweep dir>/sweep.json, where every job (in this process, a joblib worker or a Ray worker
on this machine or a shared filesystem) finds it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

SWEEP_FILE = "sweep.json"
# Written when a signal stops the sweep: jobs the launcher still hands to its workers
# while the running ones close must not start.
STOPPING_FILE = "stopping"

# The sweep this process runs, while it runs: what a signal must end (Hydra's callbacks
# keep no state of their own between multirun start and end).
_active: dict[str, Any] = {}


class SweepRun(Callback):
    """Opens the sweep's parent run before the first job and closes it after the last."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from lstm_doctor.base.errors import report_errors
        from lstm_doctor.config import validate
        from lstm_doctor.jobs.cluster import connect_for_sweep
        from lstm_doctor.pipeline.run import signals_stop_the_workers
        from lstm_doctor.tracking import store, sweeps

        cfg = validate(config)
        # On Ray, before the parent run, so a cluster that does not answer leaves nothing
        # open; its workers are told this store and this folder (other launchers: a no-op).
        # Hydra turns a callback's exception into a warning: an unreachable cluster must stop
        # the sweep here (one line, exit status 2), not in every job.
        launcher = OmegaConf.select(config, "hydra.launcher")
        report_errors(lambda: connect_for_sweep(launcher, store.tracking_uri(cfg.tracking)))
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        overrides = list(OmegaConf.to_container(config.hydra.overrides.task, resolve=True))
        (sweep_dir / STOPPING_FILE).unlink(missing_ok=True)
        earlier = read_sweep(sweep_dir)
        # The same sweep folder again resumes: the parent run is reopened and each job that
        # already finished under it is skipped (see `already_finished`).
        if earlier and sweeps.reopen(cfg.tracking, earlier["parent_run_id"]):
            parent = earlier["parent_run_id"]
            done = len(sweeps.finished_children(cfg.tracking, parent))
            print(f"sweep {sweep_dir.name}: resuming run {parent}, {done} jobs finished before")
        else:
            # The parent is made here, before any worker starts: this also creates the store
            # and experiment once, so parallel jobs never race to initialise them.
            parent = sweeps.start_sweep_run(cfg.tracking, sweep_dir.name, overrides)
        _active.clear()
        _active.update(tracking=cfg.tracking, parent=parent, folder=sweep_dir)
        _active["restore"] = signals_stop_the_workers(end_interrupted)
        record = {
            "parent_run_id": parent,
            "overrides": overrides,
            "jobs": planned_jobs(config, overrides),
            "started": time.time(),
        }
        (sweep_dir / SWEEP_FILE).write_text(json.dumps(record, indent=2) + "\n")

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        """Each job, as it ends (in its own worker), says how far the sweep has got: jobs
        are separate processes, so the progress is lines, not a bar."""
        from lstm_doctor.config import validate
        from lstm_doctor.tracking import sweeps

        sweep_dir = Path(config.hydra.sweep.dir)
        info = read_sweep(sweep_dir)
        if info is None:
            return
        counts = sweeps.count_children(validate(config).tracking, info["parent_run_id"])
        done, total = counts["finished"] + counts["failed"], info.get("jobs")
        elapsed = time.time() - info.get("started", time.time())
        print(progress_line(sweep_dir.name, done, total, counts["failed"], elapsed), flush=True)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from lstm_doctor.config import validate
        from lstm_doctor.tracking import sweeps

        info = read_sweep(Path(config.hydra.sweep.dir))
        if info is None:
            return
        counts = sweeps.finish_sweep_run(validate(config).tracking, info["parent_run_id"])
        _active.pop("restore", lambda: None)()
        _active.clear()
        print(
            f"sweep {Path(config.hydra.sweep.dir).name}: {counts['jobs']} jobs, "
            f"{counts['failed']} failed; MLflow parent run {info['parent_run_id']}"
        )
        name = Path(config.hydra.sweep.dir).name
        print(f"compare them: lstm-doctor compare {name}   (which learned better, beyond seed "
              "noise)")  # fmt: skip


def end_interrupted(signal_name: str) -> None:
    """End this process's running sweep KILLED, its jobs counted (once, from the signal
    handler or from the app when a job in this process took the signal itself)."""
    from lstm_doctor.tracking import sweeps

    if not _active or "counts" in _active:
        return
    (_active["folder"] / STOPPING_FILE).touch()
    _active["restore"]()
    counts = sweeps.end_interrupted(_active["tracking"], _active["parent"], signal_name)
    _active["counts"] = counts
    print(
        stopped_line(_active["folder"], signal_name, counts, _active["parent"]),
        file=sys.stderr,
        flush=True,
    )


def progress_line(name: str, done: int, total: int | None, failed: int, elapsed: float) -> str:
    """How far a sweep has got, as each job ends:
    `sweep <name>: 4/6 jobs done, 1 failed, 95 s so far, about 48 s left`."""
    line = f"sweep {name}: {done}{f'/{total}' if total else ''} jobs done"
    line += f", {failed} failed, {elapsed:.0f} s so far"
    if total and done:
        line += f", about {elapsed / done * max(total - done, 0):.0f} s left"
    return line


def stopped_line(folder: Path, signal_name: str, counts: dict[str, int], parent: str) -> str:
    """What a stopped sweep says: its jobs counted, its parent run, how to resume."""
    return (
        f"sweep {folder.name}: stopped by {signal_name}: {counts['finished']} jobs "
        f"finished, {counts['killed']} killed, {counts['failed']} failed; parent run "
        f"{parent} is KILLED. To resume (finished jobs are skipped), run the same "
        f"command with hydra.sweep.dir={folder}"
    )


def stopping(sweep_dir: Path) -> bool:
    """Whether a signal is stopping this sweep (a job handed out now must not start)."""
    return (sweep_dir / STOPPING_FILE).exists()


def already_finished(sweep_dir: Path, overrides: list[str], cfg: Any) -> str | None:
    """The run id of a job with exactly these overrides that already finished under this
    sweep's parent run (a resumed sweep skips it), else None."""
    from lstm_doctor.tracking import sweeps

    info = read_sweep(sweep_dir)
    if info is None:
        return None
    return sweeps.finished_children(cfg.tracking, info["parent_run_id"]).get(" ".join(overrides))


def planned_jobs(config: DictConfig, overrides: list[str]) -> int | None:
    """How many jobs the sweep will run: the product of the swept values for Hydra's basic
    sweeper, the trial budget for Optuna; None when it cannot be told."""
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_") or "")
    if "optuna" in sweeper.lower():
        trials = OmegaConf.select(config, "hydra.sweeper.n_trials")
        return int(trials) if trials else None
    if not sweeper.endswith("BasicSweeper"):
        return None
    from lstm_doctor.config.overrides import parse

    total = 1
    for override in parse(overrides):
        if override.is_sweep_override():
            total *= len(list(override.sweep_string_iterator()))
    return total


def read_sweep(sweep_dir: Path) -> dict[str, Any] | None:
    """The sweep's record (parent run id, overrides), if this is a sweep folder."""
    file = sweep_dir / SWEEP_FILE
    return json.loads(file.read_text()) if file.exists() else None
