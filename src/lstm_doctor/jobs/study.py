"""An Optuna study shared by several sweeps: `hydra.sweeper.storage`, read from the command
line and checked before Hydra starts (not after the sweep's parent run opened). Reads the
overrides only; writes nothing."""

from __future__ import annotations

from typing import Any

from lstm_doctor.base.errors import ConfigError
from lstm_doctor.config.overrides import parse
from lstm_doctor.jobs.databases import check_database_url

STORAGE_KEY = "hydra.sweeper.storage"


def storage_url(overrides: list[str]) -> str | None:
    """The study's storage URL set on the command line, if any (null: in memory)."""
    for override in parse(overrides):
        if override.key_or_group == STORAGE_KEY and not override.is_delete():
            value: Any = override.value()
            return None if value is None else str(value)
    return None


def check_storage(overrides: list[str]) -> None:
    """Refuse a storage URL that cannot work (see databases.check_database_url).

    Raises:
        ConfigError: naming the key and what to do.
    """
    url = storage_url(overrides)
    if url is None:
        return
    from importlib.metadata import version

    # Optuna 2.10 (what hydra-optuna-sweeper asks for) never commits its schema's version
    # with SQLAlchemy 2, and fails later with a bare assertion: make setup installs Optuna 4.
    if int(version("optuna").split(".")[0]) < 3:
        raise ConfigError(
            f"{STORAGE_KEY}: Optuna {version('optuna')} cannot keep a study in a database beside "
            "SQLAlchemy 2; install Optuna 4 (make setup does; pip install 'optuna>=4.9,<5')"
        )
    shown = check_database_url(url, STORAGE_KEY)
    if url.startswith("sqlite:///"):
        from lstm_doctor.tracking.store import sqlite_path  # MLflow loads only for a SQLite study

        folder = sqlite_path(url).parent
        if not folder.is_dir():
            raise ConfigError(
                f"{STORAGE_KEY}: '{shown}': folder {folder} does not exist; create it"
            )
