"""The databases a team shares, by SQLAlchemy URL (MLflow's backend store, an Optuna study),
checked before a server or a sweep starts: a URL that cannot work is one line, not a
traceback after the work began. Reads nothing but the URL."""

from __future__ import annotations

from lstm_doctor.base.errors import ConfigError

EXAMPLES = "e.g. sqlite:///path/to/file.db, postgresql+psycopg://user:password@host:5432/db"


def check_database_url(url: str, what: str) -> str:
    """Refuse a URL that is no database URL, names a database SQLAlchemy does not know, or
    needs a driver that is not installed. `what` names the setting in the message.

    Returns:
        The URL with its password hidden, fit to print.

    Raises:
        ConfigError: naming the setting and what to do.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{what}: '{url}' is not a database URL; {EXAMPLES}") from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ConfigError(
            f"{what}: '{shown}' names no database SQLAlchemy knows; {EXAMPLES}"
        ) from None
    except ImportError as exc:
        raise ConfigError(
            f"{what}: '{shown}' needs the {exc.name} driver, which is not installed "
            "(for PostgreSQL: pip install 'lstm-doctor[postgres]', psycopg)"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise ConfigError(
                f"{what}: '{shown}' is a database in memory, gone on exit; {EXAMPLES}"
            )
        return shown
    _check_reachable(parsed, what, shown)
    return shown


def _check_reachable(parsed: object, what: str, shown: str) -> None:
    """Open one connection to a database server, so one that does not answer (or refuses
    the user) is refused before the work, not after it began."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    # Without a timeout an unreachable host is waited on for minutes.
    timeout = {"connect_timeout": 10} if str(parsed).startswith("postgresql") else {}
    engine = create_engine(parsed, connect_args=timeout)  # type: ignore[call-overload]
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise ConfigError(
            f"{what}: '{shown}' cannot be reached ({first[:200]}); start it or correct the URL"
        ) from None
    finally:
        engine.dispose()
