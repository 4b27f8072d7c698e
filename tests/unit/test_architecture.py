"""The layers of docs/ARCHITECTURE.md, enforced: who may import whom, where the heavy
libraries live, one owner of the MLflow run, no import cycles, modules a person can read.

Every import statement counts, those inside functions too: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "lstm_doctor"


def folder_layers() -> dict[str, int]:
    """Each folder's layer, as its __init__.py declares it (`LAYER = n`): the tree is the
    layer table, and a folder without a layer fails test_every_folder_has_a_layer."""
    layers = {}
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        for node in ast.parse(init.read_text()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "LAYER":
                layers[init.parent.name] = node.value.value  # type: ignore[attr-defined]
    return layers


# A part imports only parts of a lower layer, or of its own part.
LAYERS = folder_layers()
# Heavy or owned libraries, and the parts allowed to import them.
LIBRARIES = {
    "mlflow": {"tracking"},
    # tracking: the Keras flavour and the epoch logger; keras: the adapter for users' scripts
    "keras": {"stages", "tracking", "keras"},
    "tensorflow": {"stages", "tracking"},
    "hydra": {"config", "jobs", "commands"},  # jobs: the sweep callback Hydra loads
    "ray": {"jobs"},  # the optional extra `cluster`: only where jobs fan out
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


def test_every_folder_has_a_layer() -> None:
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert folders == set(LAYERS), f"folders without LAYER: {folders - set(LAYERS)}"
    for folder, layer in LAYERS.items():
        doc = ast.get_docstring(ast.parse((PACKAGE / folder / "__init__.py").read_text()))
        assert doc and doc.startswith(f"Layer {layer}:"), f"{folder}: say its layer first"


def test_every_module_lives_in_a_folder() -> None:
    """The package root holds only its __init__: a module's folder is its layer."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert not loose, f"modules at the package root: {loose}"


def test_no_two_modules_share_a_name() -> None:
    """`progress` in two folders is two things one name hides: every module is unique."""
    seen: dict[str, str] = {}
    clashes = []
    for name in modules():
        leaf = name.rpartition(".")[2]
        if modules()[name].name == "__init__.py":
            continue
        if leaf in seen:
            clashes.append(f"{seen[leaf]} and {name}")
        seen[leaf] = name
    assert not clashes, clashes


def test_every_dvc_stage_starts_the_same_way() -> None:
    """All five stages are `python -m lstm_doctor.pipeline.dvc_<stage>`."""
    import yaml

    stages = yaml.safe_load((SRC.parent / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        assert stage["cmd"] == f"python -m lstm_doctor.pipeline.dvc_{name}", name


def test_the_architecture_page_draws_the_tree() -> None:
    """docs/ARCHITECTURE.md's folder table lists every folder, bottom layer first, each
    with the layer its __init__ declares."""
    page = (SRC.parent / "docs" / "ARCHITECTURE.md").read_text()
    rows = re.findall(r"^\| (\d) \| `(\w+)/` \|", page, flags=re.MULTILINE)
    assert [(int(layer), folder) for layer, folder in rows] == sorted(
        (layer, folder) for folder, layer in LAYERS.items()
    )


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
    """Tests mirror the layers by folder: none loose in tests/, none in another folder."""
    from ..conftest import TEST_LAYERS

    tests = Path(__file__).resolve().parents[1]
    folders = {p.parent.name for p in tests.rglob("test_*.py")}
    assert folders <= set(TEST_LAYERS), folders
    assert not list(tests.glob("test_*.py")), "a test file outside tests/<layer>/"


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

    scripts = [*(SRC.parent / "bench").glob("*.py"), *(SRC.parent / "studies").rglob("*.py")]
    for script in sorted(scripts):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lstm_doctor"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    ), f"{script.name}: {node.module}.{alias.name}"


def stage_file_names() -> dict[str, str]:
    """The stage output file names workspace.py declares, by constant."""
    tree = ast.parse((PACKAGE / "base" / "workspace.py").read_text())
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


def test_the_doctor_says_every_override_through_the_schema() -> None:
    """A prescription is `setting(key, value)` / `option(group, name)` (config/prescriptions),
    never a hand-written "key=value": no string in doctor/, keras/ or the screen's candidate
    changes (jobs/fix_screen) holds a word that sets a key of the schema or a config group,
    in a fix or in the prose that explains it."""
    from lstm_doctor.config.overrides import SECTION_GROUPS, schema_keys

    names = "|".join(re.escape(k) for k in sorted(schema_keys() | set(SECTION_GROUPS)))
    override = re.compile(rf"(?<![\w.])({names})=")
    found = []
    for name, path in modules().items():
        if part(name) not in ("doctor", "keras") and name != "lstm_doctor.jobs.fix_screen":
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            text = None
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                text = first.value if isinstance(first, ast.Constant) else None
            if text is not None and override.search(text):
                found.append(f"{name}:{node.lineno} {text[:40]!r}")
    assert not found, f"overrides written by hand: {found}"


def test_stage_metadata_is_read_and_written_only_as_its_type() -> None:
    """scaled/ and windows/ meta.json go through base/stage_meta (ScaledMeta, WindowsMeta):
    a read_json or write_json of META anywhere else would be an untyped side door."""
    found = []
    for name, path in modules().items():
        if name.endswith("base.stage_meta"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") in ("read_json", "write_json")
                and any(
                    isinstance(n, ast.Name) and n.id == "META"
                    for a in node.args
                    for n in ast.walk(a)
                )
            ):
                found.append(f"{name}:{node.lineno}")
    assert not found, found
