"""The layers of docs/ARCHITECTURE.md, enforced: who may import whom, where the heavy
libraries live, one owner of the MLflow run, no import cycles, modules a person can read.

Every import statement counts, those inside functions too: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "lstm_doctor"

# Layer of each part (the top-level name under lstm_doctor); a part imports only parts
# of a lower layer, or of its own part.
LAYERS = {
    "errors": 0, "workspace": 0, "metrics": 0, "curve_measures": 0, "significance": 0,
    "config": 1, "run_groups": 1, "common_targets": 1,
    "comparison": 2, "comparison_report": 3, "proving": 3,
    "stages": 2, "doctor": 2, "tracking": 3,
    "pipeline": 4, "keras": 4, "commands": 5,
}  # fmt: skip
# Heavy or owned libraries, and the parts allowed to import them.
LIBRARIES = {
    "mlflow": {"tracking"},
    # tracking: the Keras flavour and the epoch logger; keras: the adapter for users' scripts
    "keras": {"stages", "tracking", "keras"},
    "tensorflow": {"stages", "tracking"},
    "hydra": {"config", "commands"},
    "ray": {"commands"},  # the optional extra `cluster`: only where a command fans out
}
MAX_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


@cache
def imports(name: str) -> set[str]:
    """Every module an import statement in `name` names (ours dotted in full)."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *filter(None, [base])])
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules()}
    return found


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n in modules() and n != "lstm_doctor"}


def part(name: str) -> str:
    return name.split(".")[1] if "." in name else ""


def test_every_part_has_a_layer() -> None:
    assert {part(n) for n in modules() if part(n)} == set(LAYERS)


@pytest.mark.parametrize("name", sorted(n for n in modules() if part(n)))
def test_imports_go_down_the_layers(name: str) -> None:
    mine = part(name)
    for other in ours(imports(name)):
        theirs = part(other)
        if theirs and theirs != mine:
            assert LAYERS[theirs] < LAYERS[mine], (
                f"{name} imports {other} ({theirs} is not below {mine})"
            )


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_heavy_libraries_live_in_their_parts(library: str) -> None:
    offenders = sorted(
        name
        for name in modules()
        if part(name) not in LIBRARIES[library]
        and any(i == library or i.startswith(f"{library}.") for i in imports(name))
    )
    assert not offenders, f"{library} imported outside {LIBRARIES[library]}: {offenders}"


def test_one_owner_opens_resumes_and_ends_the_pipeline_run() -> None:
    """Only the pipeline package opens, resumes and ends a pipeline's MLflow run."""
    users = sorted(n for n in modules() if "lstm_doctor.tracking.lifecycle" in imports(n))
    assert {part(n) for n in users} <= {"pipeline", "tracking"}, users


def test_the_stages_and_the_doctor_never_touch_the_run() -> None:
    for name in modules():
        if part(name) in ("stages", "doctor"):
            assert not any(i.startswith("lstm_doctor.tracking") for i in imports(name)), name


def test_nothing_imports_the_commands_but_the_commands() -> None:
    for name in modules():
        if part(name) != "commands":
            assert not any(i.startswith("lstm_doctor.commands") for i in imports(name)), name


def test_no_import_cycles() -> None:
    graph = {name: ours(imports(name)) - {name} for name in modules()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for other in sorted(graph[name]):
            # A package's __init__ importing its own modules is how a package re-exports.
            if not (other.startswith(f"{name}.") and modules()[name].name == "__init__.py"):
                visit(other, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_readable(name: str) -> None:
    """Past ~300 lines a module is asking to be split along a real seam."""
    lines = modules()[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{name}: {lines} lines"


def test_every_test_file_has_a_layer() -> None:
    from .conftest import LAYER_OF

    files = {p.stem for p in Path(__file__).parent.rglob("test_*.py")}
    assert files == set(LAYER_OF)


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_name_imported_from_our_modules_exists(name: str) -> None:
    """A `from lstm_doctor.x import y` inside a function only fails when it runs: check
    every one, so a module that moved or a name that went cannot hide in a rare path."""
    import importlib

    for node in ast.walk(ast.parse(modules()[name].read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if not node.module.startswith("lstm_doctor"):
            continue
        module = importlib.import_module(node.module)
        for alias in node.names:
            if not hasattr(module, alias.name):
                importlib.import_module(f"{node.module}.{alias.name}")  # a submodule, or fails


def test_every_name_the_benchmarks_import_exists() -> None:
    import importlib

    for script in sorted((SRC.parent / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_doctor"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    ), f"{script.name}: {node.module}.{alias.name}"


def stage_file_names() -> dict[str, str]:
    """The stage output file names workspace.py declares, by constant."""
    tree = ast.parse((PACKAGE / "workspace.py").read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id.isupper()
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and "." in node.value.value
    }


def test_the_stage_files_are_named_only_in_the_contract() -> None:
    """A stage output's file name is said once, in workspace.py; every reader and writer
    uses the constant, so renaming a file cannot leave a reader behind."""
    names = stage_file_names()
    assert {"table.parquet", "meta.json", "history.csv", "diagnosis.json"} <= set(names.values())
    found = []
    for name, path in modules().items():
        if path.name == "workspace.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in set(names.values()):
                found.append(f"{name}:{node.lineno} {node.value!r}")
    assert not found, f"stage file names written outside workspace.py: {found}"
