"""An `mlflow server` process: its command line, started on 127.0.0.1 until its /health
answers, and stopped with its workers. What `lstm-doctor server` execs, `ui-check` browses,
and the tests and benchmarks start as a real server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lstm_doctor.base.errors import DoctorError


class ServerNotStarted(DoctorError):
    """The server exited or did not answer /health in time."""


# MLflow's job runner needs extras this project does not install; nothing here uses it.
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def server_argv(
    store_uri: str, host: str, port: int, artifacts: str | Path | None, *extra: str
) -> list[str]:
    """The `mlflow server` command line: the backend store, where it listens and, with
    `artifacts`, proxied artifact storage in that folder (or bucket)."""
    proxy = ["--serve-artifacts", "--artifacts-destination", str(artifacts)] if artifacts else []
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store_uri,
            "--host", host, "--port", str(port), *proxy, *extra]  # fmt: skip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing holds now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mlflow_server(
    store_uri: str, port: int, timeout: float = 120, artifacts: Path | None = None
) -> Iterator[str]:
    """`mlflow server` on 127.0.0.1:port over the store, stopped (with its workers) after;
    with `artifacts`, it proxies artifact storage in that folder (clients need no access)."""
    # One person's server: 2 workers start in half the time of MLflow's 4.
    argv = server_argv(store_uri, "127.0.0.1", port, artifacts, "--workers", "2")
    with serving(argv, f"http://127.0.0.1:{port}", timeout, SERVER_ENV) as base:
        yield base


@contextmanager
def serving(
    argv: list[str], base: str, timeout: float = 120, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run a server's command line (`mlflow server`, `lstm-doctor server`) until its
    /health answers at `base`; stop it, with its workers, on leaving."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            start_new_session=True,
        )  # fmt: skip
        try:
            _wait_healthy(base, process, log, timeout)
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()  # the port is free once it is gone


def _wait_healthy(base: str, process: subprocess.Popen, log: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-1:]
            raise ServerNotStarted(f"mlflow server at {base} did not start: {tail}")
        time.sleep(0.5)
