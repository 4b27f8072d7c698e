"""Entry point for `mlflow run .`: MLflow passes `-P overrides=...` as one quoted argument;
split it into Hydra overrides and run the app as `lstm-doctor` would."""

from __future__ import annotations

import shlex
import sys

from lstm_doctor.commands.app import main


def end_with_parent() -> None:
    """Ask Linux to send us SIGTERM when `mlflow run` (our parent) dies: a scheduler or
    `kill` that stops it would otherwise leave us training, and our run RUNNING, orphaned.
    The signal then ends the run KILLED as any other does. A thread also watches for a new
    parent (Linux ties the request to the thread that started us, not its process; and
    other systems have no such request), and sends the same signal then."""
    import os
    import signal
    import threading
    import time

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent or parent == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lstm-doctor-parent-watch", daemon=True).start()


def run() -> None:
    """`python -m lstm_doctor.commands.mlproject 'scaling=none window.length=24'`."""
    end_with_parent()
    sys.argv = [sys.argv[0], *shlex.split(" ".join(sys.argv[1:]))]
    main()


if __name__ == "__main__":
    run()
