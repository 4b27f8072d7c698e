"""Jobs on a Ray cluster: a sweep with `hydra/launcher=ray`, `lstm-doctor fix --backend ray`.

Connects this process to a cluster (the address given, else RAY_ADDRESS, else one that
`ray start --head` started on this machine, else a new local one) so that every worker runs
its jobs as this process would: in this working folder, logging to this MLflow store, with
this process's LSTM_DOCTOR_* and MLFLOW_* settings. Ray is the optional extra `cluster`,
imported only here and only when asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Where the command was typed: workers of a cluster started elsewhere run in the folder of
# its `ray start`, where the relative paths of conf/ (data/raw, multirun/, fixes/) do not
# resolve.
WORKDIR = "LSTM_DOCTOR_WORKDIR"
CARRIED = ("LSTM_DOCTOR_", "MLFLOW_")
RAY_LAUNCHER = "hydra_plugins.hydra_ray_launcher.ray_launcher.RayLauncher"


def connect(init: dict[str, Any], tracking_uri: str) -> None:
    """Connect to Ray (once per process) with this process's folder and store carried to
    the workers. `init` is ray.init's keywords (hydra.launcher.ray.init for a sweep); a
    runtime_env in it is kept, its env_vars taking precedence over the carried ones.

    Raises:
        DoctorError: Ray is not installed, or no cluster answers at the address.
    """
    from lstm_doctor.base.errors import DoctorError, first_line

    try:
        import ray
    except ImportError:
        raise DoctorError(
            "Ray is not installed; install the cluster extra (pip install 'lstm-doctor[cluster]')"
        ) from None
    if ray.is_initialized():
        return
    init = dict(init)
    address = init.get("address") or os.environ.get("RAY_ADDRESS")
    check_reachable(address)
    runtime_env = dict(init.pop("runtime_env", None) or {})
    carried = {k: v for k, v in os.environ.items() if k.startswith(CARRIED)}
    # A worker started by `ray start` has that shell's environment, not ours: the store
    # must be named, or each job would log to an mlflow.db of its own.
    carried |= {"MLFLOW_TRACKING_URI": tracking_uri, WORKDIR: os.getcwd()}
    runtime_env["env_vars"] = carried | dict(runtime_env.get("env_vars") or {})
    runtime_env.setdefault("worker_process_setup_hook", f"{__name__}.enter_workdir")
    try:
        ray.init(**init, runtime_env=runtime_env)
    except ConnectionError as exc:
        first = first_line(exc)
        # Something answered at the address but refused us: with Ray 2.60, most often a
        # cluster that uses token authentication (it does once ~/.ray/auth_token exists).
        what = ("start one with `ray start --head` or give its address" if "find" in first
                else "a cluster with token authentication needs RAY_AUTH_MODE=token and its "
                "token (RAY_AUTH_TOKEN, or ~/.ray/auth_token) where the command runs")  # fmt: skip
        raise DoctorError(
            f"cannot join the Ray cluster at {address or 'auto'} ({first[:200]}); {what}"
        ) from None


def check_reachable(address: str | None) -> None:
    """Refuse, in one line, a cluster address nothing answers at: Ray itself would retry
    for minutes. `auto` and no address are Ray's to resolve (or to start a local cluster).

    Raises:
        DoctorError: naming the address and what to do.
    """
    import socket

    from lstm_doctor.base.errors import DoctorError

    host, _, port = (address or "").removeprefix("ray://").rpartition(":")
    if not port.isdigit():
        return
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=10):
            pass
    except OSError as exc:
        raise DoctorError(
            f"no Ray cluster answers at {address} ({type(exc).__name__}); start one with "
            "`ray start --head` or give the address it printed"
        ) from None


def enter_workdir() -> None:
    """Ray runs this in every worker of our job before its first task: work in the folder
    the command was typed in, when this node has it (a shared filesystem)."""
    folder = os.environ.get(WORKDIR)
    if folder and Path(folder).is_dir():
        os.chdir(folder)


def connect_for_sweep(launcher: Any, tracking_uri: str) -> bool:
    """Connect before the first job when the sweep's launcher (hydra.launcher) is Ray's;
    hydra-ray-launcher then uses this connection. Returns whether it was Ray's.

    Connecting here, not in the launcher, also lets `address=auto` reach a running
    cluster: the launcher adds an object store size, which ray.init refuses for one.
    """
    if launcher is None or launcher.get("_target_") != RAY_LAUNCHER:
        return False
    from omegaconf import OmegaConf

    init = OmegaConf.to_container(launcher.ray.init, resolve=True) or {}
    connect(dict(init), tracking_uri)  # type: ignore[arg-type]
    return True


def as_ray_tasks(
    function: Callable[..., Any],
    calls: list[tuple[Any, ...]],
    jobs: int,
    address: str | None,
    tracking_uri: str,
) -> Iterator[Any]:
    """Each call of `function` as a Ray task, at most `jobs` at once; yields the results
    as they come. A task whose worker died yields "failed: ..." (the sweep goes on)."""
    import ray

    connect({"address": address}, tracking_uri)
    # Not retried: a rerun would log a second MLflow run for the same job.
    task = ray.remote(num_cpus=1, max_retries=0)(function)
    queued, running = list(calls), []
    try:
        while queued or running:
            while queued and len(running) < max(1, jobs):
                running.append(task.remote(*queued.pop(0)))
            done, running = ray.wait(running, num_returns=1)
            try:
                yield ray.get(done[0])
            except ray.exceptions.RayError as exc:
                yield f"failed: {str(exc).splitlines()[0][:300]}"
    finally:
        for ref in running:  # stopped: the workers' runs end KILLED on their own
            ray.cancel(ref)


# Ray advertises a node by the machine's address even when told 127.0.0.1; this (a switch
# meant for single-machine clusters) keeps a loopback cluster, and its clients, on loopback.
LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


@dataclass(frozen=True)
class LocalCluster:
    """A running local cluster: its address, and the environment its clients need."""

    address: str
    env: dict[str, str]


@contextmanager
def local_cluster(folder: Path, cpus: int = 2, timeout: float = 180) -> Iterator[LocalCluster]:
    """A Ray head on 127.0.0.1 (`ray start --head --block`), its files in `folder`, stopped
    with all its processes on leaving. It takes a token of its own (Ray's token
    authentication): whether ~/.ray/auth_token exists changes nothing.

    `folder` should be a short path: Ray's socket paths inside it must fit 107 bytes.
    """
    import secrets
    import signal
    import subprocess
    import sys
    import time

    from lstm_doctor.tracking.server_process import free_port

    port = free_port()
    ray_cli = Path(sys.executable).with_name("ray")
    argv = [str(ray_cli), "start", "--head", "--block", f"--port={port}", f"--num-cpus={cpus}",
            "--node-ip-address=127.0.0.1", "--include-dashboard=false",
            "--disable-usage-stats", f"--temp-dir={folder}"]  # fmt: skip
    clients = LOOPBACK_ENV | {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    # As if started from another shell: jobs must get their store and settings from the
    # command that sends them (see `connect`), not from the cluster's environment.
    env = {k: v for k, v in os.environ.items()
           if k != "RAY_ADDRESS" and not k.startswith(CARRIED)} | clients  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    log_file = folder / "ray-start.log"
    with log_file.open("w") as log:
        # Its own session: every Ray process it starts is in its group, stopped by that id.
        head = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=folder, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while "Ray runtime started" not in log_file.read_text():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start failed: {log_file.read_text()[-2000:]}")
            time.sleep(0.5)
        yield LocalCluster(f"127.0.0.1:{port}", clients)
    finally:
        head.terminate()  # --block: drains the node and stops what it started
        with suppress(subprocess.TimeoutExpired):
            head.wait(timeout=60)
        with suppress(ProcessLookupError):  # whatever did not stop in time
            os.killpg(head.pid, signal.SIGKILL)
        head.wait()
