"""The import contracts of pyproject.toml ([tool.importlinter], docs/architecture.md): imports go one way.

They are checked with import-linter on the real tree; a copy of the tree with one import added against
them shows that the check fails when a change breaks them.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
FOLDERS = ("rdoflow", "flows", "tasks", "blocks", "deployments", "reports", "lab")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The project's code and its contracts, copied (rdoflow/'s links to the folders stay links)."""
    for name in FOLDERS:
        shutil.copytree(PROJECT / name, tmp_path / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_code_keeps_every_import_contract():
    done = lint_imports(PROJECT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_renderer_that_imports_task_logic_breaks_the_layers_and_makes_a_cycle(tree_copy: Path):
    renderer = tree_copy / "reports" / "pipeline.py"
    renderer.write_text(renderer.read_text() + "\nfrom rdoflow.tasks.pipeline.record import Pipeline  # noqa\n")
    done = lint_imports(tree_copy)
    assert done.returncode != 0
    assert "rdoflow.reports.pipeline -> rdoflow.tasks.pipeline.record" in done.stdout
    assert "No cycles" in done.stdout and "BROKEN" in done.stdout


def test_a_domain_module_that_reaches_the_lab_directly_is_refused(tree_copy: Path):
    module = tree_copy / "tasks" / "undercloud" / "preflight.py"
    module.write_text(module.read_text() + "\nfrom rdoflow.lab.control import up  # noqa\n")
    done = lint_imports(tree_copy)
    assert done.returncode != 0
    assert "rdoflow.tasks.undercloud.preflight -> rdoflow.lab.control" in done.stdout


def test_tests_and_benchmarks_import_the_code_only_as_rdoflow():
    """A bare ``import tasks`` works from the checkout's root (the folder is on sys.path there) but would load
    a second copy of every module beside rdoflow.tasks; the contracts cover rdoflow, this covers the rest."""
    bare = []
    for path in sorted([*PROJECT.glob("tests/*.py"), *PROJECT.glob("bench/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                     else [])
            bare += [f"{path.relative_to(PROJECT)}: {name}" for name in names if name.split(".")[0] in FOLDERS[1:]]
    assert bare == []
