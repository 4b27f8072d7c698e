"""How the suite shares its two cores (pytest-xdist, `--dist loadgroup` in pyproject's addopts).

A module- or session-scoped fixture is made once per worker process, so tests sharing one
(a trained run, an MLflow server, a Ray cluster, a sweep) must run on the same worker or
each worker would make it again. Each such test gets an `xdist_group` named after the
fixtures it shares, joined with every test that shares any of them.

Tests that start long trainings and servers are handed out before the quick ones, so
the run does not end on one worker finishing a long test while the other waits.
"""

from __future__ import annotations

import pytest


def _shared_fixtures(item: pytest.Item) -> list[str]:
    """The suite's own fixtures wider than one test that `item` uses."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    names = []
    for name in info.names_closure:
        for definition in info.name2fixturedefs.get(name, ()):
            own = definition.func.__module__.split(".")[0] == __name__.split(".")[0]
            if own and definition.scope != "function":
                names.append(f"{definition.func.__module__.rpartition('.')[2]}.{name}")
    return names


def _groups(items: list[pytest.Item]) -> dict[str, str]:
    """Each shared fixture's group: the first name of the set of fixtures tests join."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for item in items:
        names = _shared_fixtures(item)
        for other in names:
            first, second = sorted((root(names[0]), root(other)))
            parent[second] = first
    return {name: root(name) for name in parent}


class ParallelPlan:
    """Registered by conftest; does nothing unless pytest-xdist is running the suite."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]):
        if not hasattr(config, "workerinput"):
            return
        group = _groups(items)
        for item in items:
            names = _shared_fixtures(item)
            if names and not item.get_closest_marker("xdist_group"):
                item.add_marker(pytest.mark.xdist_group(group[names[0]]))
            if config.getvalue("loadgroup"):
                _name_group(item)
        # Workers must agree on the order; sorted() is stable, so each keeps the files' own.
        items[:] = sorted(items, key=lambda item: not _integration(item))


def _name_group(item: pytest.Item) -> None:
    """Append "@group" to the test's id, which is how xdist's scheduler sees a group.

    xdist 3.8 does this through the attribute `_nodeid`, which pytest 9.2 no longer reads
    (the id lives in `_id`), so without this every group would be spread over the workers.
    """
    from _pytest.nodeid import NodeId

    names = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
    if names and "@" not in item.nodeid:
        item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


def _integration(item: pytest.Item) -> bool:
    """Whether the test runs the real tools (its folder is tests/integration; a slow test
    always does)."""
    return bool(item.get_closest_marker("slow")) or item.path.parent.name == "integration"
