"""A prescription said through the schema: `setting("optimizer.lr", 0.003)` and
`option("scaling", "robust")`, never a hand-written "key=value".

A key the schema lacks, or a section given a value, fails where the doctor says it (and in
the doctor's own tests), not in a user's `lstm-doctor fix`; a renamed key cannot leave a
prescription behind. Values come out in Hydra's override grammar, floats to 6 significant
digits (a step of 0.003 * 10 reads 0.03, not 0.030000000000000002; 1.0 stays 1.0).
"""

from __future__ import annotations

import re
from typing import Any

from lstm_doctor.config.overrides import SECTION_GROUPS, format_value, schema_keys

_KEYS = schema_keys()
_SECTIONS = {key.rpartition(".")[0] for key in _KEYS if "." in key}
_PLAIN = re.compile(r"[A-Za-z_][\w.-]*")


def setting(key: str, value: Any) -> str:
    """`key=value` for a key of the schema.

    Raises:
        KeyError: a key the schema lacks, or a section (it takes keys, not a value).
    """
    if key not in _KEYS or key in _SECTIONS:
        raise KeyError(f"{key!r} is not a setting of the config schema")
    return f"{key}={_text(value)}"


def option(group: str, name: str) -> str:
    """`group=name`: one of conf/<group>/'s options (a test holds every prescribed option to
    a file there)."""
    if group not in SECTION_GROUPS:
        raise KeyError(f"{group!r} is not a config group ({', '.join(SECTION_GROUPS)})")
    if not _PLAIN.fullmatch(name):
        raise ValueError(f"{name!r} is not an option name")
    return f"{group}={name}"


def together(*overrides: str) -> str:
    """Several overrides that make one fix (tried, and proved, as one change)."""
    return " ".join(o for o in overrides if o)


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return format_value(value)
    if isinstance(value, float):
        short = f"{value:g}"
        # 1.0 stays a float to a reader and to Hydra (1 would read as an int).
        return f"{short}.0" if re.fullmatch(r"-?\d+", short) else short
    if isinstance(value, str):
        if _PLAIN.fullmatch(value):
            return value  # a choice ("tanh", "glorot_uniform"): no quoting needed
        # Quoted always: a fix is its overrides joined by spaces, split on them again.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return format_value(value)
