"""`lstm-doctor server`: an MLflow tracking server for a team, run from this project.

`mlflow server` with a SQL backend store (a SQLite file by default, or a PostgreSQL URI)
and proxied artifact storage: clients send runs, curves and models over HTTP alone
(`MLFLOW_TRACKING_URI=http://host:port`, or `tracking.uri=`) and never touch its disk.
Writes the store and the artifacts folder (mlflow-server/ by default). `make server` runs it.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

from lstm_doctor.base.errors import DoctorError
from lstm_doctor.tracking.server_process import SERVER_ENV, server_argv

DEFAULT_STORE = "sqlite:///mlflow-server/mlflow.db"
DEFAULT_ARTIFACTS = "mlflow-server/artifacts"
DEFAULT_PORT = 5000


def absolute_store(uri: str) -> str:
    """A SQLite store's file made absolute, so the server finds it from any folder."""
    from lstm_doctor.tracking.store import sqlite_path

    return f"sqlite:///{sqlite_path(uri).resolve()}" if uri.startswith("sqlite:///") else uri


def check_port_free(host: str, port: int) -> None:
    """Refuse a port outside 1-65535 (0 would let the system pick one the printed address
    does not name) or one another process holds, before MLflow says it in a traceback."""
    if not 1 <= port <= 65535:
        raise DoctorError(f"--port {port}: a port is 1 to 65535; e.g. --port {DEFAULT_PORT}")
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise DoctorError(
                f"--port {port}: {host}:{port} is in use ({exc.strerror}); stop what holds it "
                f"(`make ui`, another server) or choose another port: --port {port + 1}"
            ) from None


def main(argv: list[str] | None = None) -> None:
    """Console entry: lstm-doctor server [--store URI] [--artifacts DIR] [--host H] [--port N]
    [mlflow server options...]; replaces this process with the server (Ctrl-C stops it)."""
    parser = argparse.ArgumentParser(prog="lstm-doctor server", description=__doc__)
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"default {DEFAULT_STORE}")
    parser.add_argument(
        "--artifacts", default=DEFAULT_ARTIFACTS, help="where the server keeps artifacts"
    )
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args, extra = parser.parse_known_args(argv)
    store = absolute_store(args.store)
    from lstm_doctor.jobs.databases import check_database_url
    from lstm_doctor.tracking.store import sqlite_path

    shown = check_database_url(store, "--store")
    check_port_free(args.host, args.port)
    if store.startswith("sqlite:///"):
        sqlite_path(store).parent.mkdir(parents=True, exist_ok=True)
    artifacts: str | Path = args.artifacts
    if "://" not in args.artifacts:  # a folder on this machine, not a bucket
        artifacts = Path(args.artifacts).resolve()
        artifacts.mkdir(parents=True, exist_ok=True)
    url = f"http://{args.host}:{args.port}"
    print(f"MLflow tracking server at {url}: store {shown}, artifacts {artifacts}\n"
          f"  point clients at it: MLFLOW_TRACKING_URI={url} (or tracking.uri={url})",
          flush=True)  # fmt: skip
    command = server_argv(store, args.host, args.port, artifacts, *extra)
    # The server replaces this process: a signal reaches it directly, and so does its exit.
    os.execve(command[0], command, {**os.environ, **SERVER_ENV})
