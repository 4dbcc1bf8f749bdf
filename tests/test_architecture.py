"""The package's layering, read from the source with ``ast`` (DESIGN.md §3).

- Every boto3/botocore client and call lives under ``helpers/aws/``; the computing packages
  never take a ``cloud`` and never import ``helpers.aws``.
- A module imports only from its own floor or the floors below it, and no two parts of the
  package import each other in a circle.
- No ``import helpers...`` inside a function (the usual way to hide a circle).

The checker itself is tested on small packages written to a temporary folder, so these tests
can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1] / "helpers"
AWS_LIBRARIES = ("boto3", "botocore", "moto")
AWS_HOME = "helpers.aws"
# The one part allowed its own AWS clients: the auto-block Lambda handler, which ships alone
# as a zip and makes its clients from the Lambda environment.
OWN_CLIENTS = {"helpers.respond"}
CLIENTS = {"ec2", "logs", "s3", "iam", "cloudwatch", "sns", "sts", "ssm", "athena", "lambda_",
           "clients"}

FLOORS = {
    "helpers": 0, "helpers.errors": 0, "helpers.reference": 0, "helpers.paths": 0,
    "helpers.plots": 0, "helpers.times": 0, "helpers.environment": 0, "helpers.frames": 0,
    "helpers.flowlogs": 1,
    "helpers.traffic": 2, "helpers.insights": 2, "helpers.queries": 2, "helpers.monitoring": 2,
    "helpers.detect": 2, "helpers.cost": 2, "helpers.analysis": 2, "helpers.incident": 2,
    "helpers.aws": 3, "helpers.respond": 3, "helpers.netlab": 3, "helpers.sample": 3,
    "helpers.selfcheck": 4, "helpers.grading": 4,
}
"""Each part of the package (top-level module or subpackage) and its floor."""


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    """``helpers.aws.lab`` → ``helpers.aws``; ``helpers.errors`` → ``helpers.errors``."""
    return ".".join(module.split(".")[:2])


def imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, ast.AST]]:
    """Every module this one imports (absolute names), with the node that imports it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node))
            # `from helpers import flowlogs` imports the submodule helpers.flowlogs
            found += [(f"{target}.{alias.name}", node) for alias in node.names]
    return found


def _is_face(target: str, module: str) -> bool:
    """Whether ``target`` is a package holding ``module``, imported only to reach a sibling
    (``from helpers.aws import emulator``): its ``__init__`` is a face, not a dependency."""
    return module == target or module.startswith(target + ".")


def problems(root: Path) -> list[str]:
    """Every breach of the layering rules in the package at ``root``."""
    found: list[str] = []
    graph: dict[str, set[str]] = {}
    modules = {module_name(p, root): p for p in root.rglob("*.py")}
    for module, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(root.parent).as_posix()
        in_aws = module == AWS_HOME or module.startswith(AWS_HOME + ".")
        own = part_of(module)
        for target, node in imports(tree, module, path.name == "__init__.py"):
            line = f"{where}:{node.lineno}"
            if target.split(".")[0] in AWS_LIBRARIES and not in_aws \
                    and part_of(module) not in OWN_CLIENTS:
                found.append(f"{line}: imports {target} outside helpers/aws/")
            if not target.startswith("helpers"):
                continue
            if target not in modules:  # `from helpers.x import name`: a name, not a module
                continue
            other = part_of(target)
            if other != own:
                graph.setdefault(own, set()).add(other)
                if FLOORS.get(other, 99) > FLOORS.get(own, 99):
                    found.append(f"{line}: {own} (floor {FLOORS.get(own)}) imports {other} "
                                 f"(floor {FLOORS.get(other)}), a floor above it")
            if not _is_face(target, module):
                graph.setdefault(module, set()).add(target)
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                        t.startswith("helpers") for t, _ in imports(node, module, False)):
                    found.append(f"{where}:{node.lineno}: imports a helpers module inside "
                                 f"{function.name}()")
            if not in_aws and part_of(module) not in OWN_CLIENTS:
                for arg in function.args.args + function.args.kwonlyargs:
                    if arg.arg == "cloud":
                        found.append(f"{where}:{function.lineno}: {function.name}() takes a "
                                     "cloud outside helpers/aws/")
        if not in_aws and part_of(module) not in OWN_CLIENTS:
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr in CLIENTS and isinstance(
                        node.value, ast.Name) and node.value.id == "cloud":
                    found.append(f"{where}:{node.lineno}: cloud.{node.attr} outside helpers/aws/")
    found += [f"import circle: {' -> '.join(c)}" for c in circles(graph)]
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of a graph (each once, starting from its smallest name)."""
    found, seen = [], set()

    def visit(node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt == path[0]:
                cycle = path + [nxt]
                key = frozenset(path)
                if key not in seen and path[0] == min(path):
                    seen.add(key)
                    found.append(cycle)
            elif nxt not in path and nxt > path[0]:
                visit(nxt, path + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_course_package_keeps_its_layering():
    assert problems(ROOT) == []


# --- the checker, on packages made for the purpose ---------------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "helpers"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("files, expected", [
    ({"monitoring/__init__.py": "", "monitoring/alarms.py": "import boto3\n"},
     "helpers/monitoring/alarms.py:1: imports boto3 outside helpers/aws/"),
    ({"insights/__init__.py": "", "insights/cloud.py": "def run(cloud):\n    pass\n"},
     "helpers/insights/cloud.py:1: run() takes a cloud outside helpers/aws/"),
    ({"monitoring/__init__.py": "", "monitoring/m.py": "x = cloud.cloudwatch\n"},
     "helpers/monitoring/m.py:1: cloud.cloudwatch outside helpers/aws/"),
    ({"flowlogs/__init__.py": "from helpers.traffic import x\n",
      "traffic/__init__.py": "x = 1\n"},
     "helpers/flowlogs/__init__.py:1: helpers.flowlogs (floor 1) imports helpers.traffic "
     "(floor 2), a floor above it"),
    ({"monitoring/__init__.py": "", "monitoring/a.py": "def f():\n    from helpers import aws\n",
      "aws/__init__.py": ""},
     "helpers/monitoring/a.py:2: imports a helpers module inside f()"),
    ({"traffic/__init__.py": "from helpers.insights import a\n",
      "insights/__init__.py": "", "insights/a.py": "from helpers import traffic\n"},
     "import circle: helpers.insights -> helpers.traffic -> helpers.insights"),
    ({"aws/__init__.py": "", "aws/cloud.py": "from helpers.aws import flowlog\n",
      "aws/flowlog.py": "from helpers.aws.cloud import describe_error\n"},
     "import circle: helpers.aws.cloud -> helpers.aws.flowlog -> helpers.aws.cloud"),
])
def test_the_checker_finds_each_breach(tmp_path, files, expected):
    assert expected in problems(_package(tmp_path, files))


def test_the_checker_accepts_aws_code_under_helpers_aws(tmp_path):
    root = _package(tmp_path, {"aws/__init__.py": "import boto3\n",
                               "aws/lab.py": "from helpers import flowlogs\n\n\n"
                                             "def make(cloud):\n    return cloud.ec2\n",
                               "flowlogs/__init__.py": ""})
    assert problems(root) == []


# --- notebooks ---------------------------------------------------------------------------------


def notebook_problems(path: Path) -> list[str]:
    """Ways a notebook reaches AWS other than the Cloud's methods."""
    found = []
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            where = f"{path.name} cell {number} line {getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and node.attr in CLIENTS and isinstance(
                    node.value, ast.Name) and node.value.id == "cloud":
                found.append(f"{where}: cloud.{node.attr} (a raw client; use a Cloud method)")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target, _ in imports(node, "notebook", False):
                    if target.split(".")[0] in AWS_LIBRARIES or target.startswith(
                            AWS_HOME + "."):
                        found.append(f"{where}: imports {target} (use aws.connect())")
    return found


NOTEBOOKS = sorted((ROOT.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_reach_aws_only_through_cloud_methods(path):
    assert notebook_problems(path) == []


def test_the_notebook_checker_finds_raw_clients(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from helpers.aws import flowlog\nstreams = cloud.logs.describe_log_streams()")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    assert notebook_problems(path) == [
        "nb.ipynb cell 0 line 1: imports helpers.aws.flowlog (use aws.connect())",
        "nb.ipynb cell 0 line 2: cloud.logs (a raw client; use a Cloud method)"]
