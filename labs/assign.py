"""Build the labs from their masters: student copies (committed) and autograders (on demand).

    python labs/assign.py            # make labs: rebuild labs/student/*.ipynb from labs/source/
    python labs/assign.py --check    # fail if a committed student copy is not what the build makes
    python labs/assign.py lab3       # only some labs

Each master ``labs/source/<lab>.ipynb`` is an otter-grader master notebook (``# ASSIGNMENT
CONFIG``, ``# BEGIN QUESTION``, ``# BEGIN/END SOLUTION``, hidden tests). ``otter assign`` turns
it into a student copy without solutions or hidden tests, and an autograder (a zip of the tests
and the solution notebook). The student copy is normalised so the build is deterministic: cell
IDs numbered in order, no outputs, no execution counts; otter itself draws random cell IDs.

Autograders are build outputs: ``labs/dist/<lab>/autograder.zip`` and ``solution.ipynb``
(git-ignored), rebuilt by :func:`autograder` whenever the master changes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source"
STUDENT = HERE / "student"
DIST = HERE / "dist"
STAMP = "master.sha256"


def labs() -> list[str]:
    """The labs, by master file name: ``["lab1", "lab2", ...]``."""
    return sorted(p.stem for p in SOURCE.glob("*.ipynb"))


def _digest(master: Path) -> str:
    import otter

    text = master.read_bytes() + f"otter {otter.__version__}".encode()
    return hashlib.sha256(text).hexdigest()


def normalise(notebook: nbformat.NotebookNode, lab: str) -> str:
    """A student copy as deterministic text: numbered cell IDs, no outputs or counts."""
    for i, cell in enumerate(notebook.cells):
        cell["id"] = f"{lab}-{i:02d}"
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def run_otter_assign(master: Path, out: Path) -> None:
    """``otter assign`` without PDFs and without running the tests (CI grades the masters)."""
    from otter.assign import main as assign

    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
        try:
            assign(str(master), str(out), no_pdfs=True, no_run_tests=True)
        except Exception as err:
            raise SystemExit(f"otter assign failed on {master.name}: {err}\n{quiet.getvalue()}"
                             ) from err


def build(lab: str, workdir: Path) -> tuple[str, Path, Path]:
    """Assign one lab in ``workdir``: (student copy text, autograder zip, solution notebook)."""
    master = SOURCE / f"{lab}.ipynb"
    if not master.exists():
        raise SystemExit(f"no master {master}; labs: {', '.join(labs())}")
    out = workdir / lab
    run_otter_assign(master, out)
    student = nbformat.read(out / "student" / f"{lab}.ipynb", as_version=4)
    zips = sorted((out / "autograder").glob(f"{lab}-autograder_*.zip"))
    if len(zips) != 1:
        raise SystemExit(f"otter assign made {len(zips)} autograder zips for {lab}")
    return normalise(student, lab), zips[0], out / "autograder" / f"{lab}.ipynb"


def autograder(lab: str) -> Path:
    """``labs/dist/<lab>/autograder.zip``, rebuilt first if its master changed."""
    target = DIST / lab
    master = SOURCE / f"{lab}.ipynb"
    if not master.exists():
        raise SystemExit(f"no master {master}; labs: {', '.join(labs())}")
    digest = _digest(master)
    stamp = target / STAMP
    if not (stamp.exists() and stamp.read_text().strip() == digest
            and (target / "autograder.zip").exists()):
        with tempfile.TemporaryDirectory() as tmp:
            _, zip_path, solution = build(lab, Path(tmp))
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(zip_path, target / "autograder.zip")
            shutil.copyfile(solution, target / "solution.ipynb")
        stamp.write_text(digest + "\n")
    return target / "autograder.zip"


def lab_of(notebook: dict) -> str | None:
    """The lab a notebook belongs to, from otter's metadata (``assignment_name``)."""
    otter = notebook.get("metadata", {}).get("otter", {})
    name = otter.get("assignment_name") if isinstance(otter, dict) else None
    return name if isinstance(name, str) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", help="labs to build (default: every master)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed student copies instead of writing")
    args = parser.parse_args(argv)
    chosen = args.labs or labs()
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for lab in chosen:
            text, zip_path, solution = build(lab, Path(tmp))
            copy = STUDENT / f"{lab}.ipynb"
            if args.check:
                if not copy.exists() or copy.read_text(encoding="utf-8") != text:
                    stale.append(lab)
                continue
            STUDENT.mkdir(exist_ok=True)
            copy.write_text(text, encoding="utf-8")
            target = DIST / lab
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(zip_path, target / "autograder.zip")
            shutil.copyfile(solution, target / "solution.ipynb")
            (target / STAMP).write_text(_digest(SOURCE / f"{lab}.ipynb") + "\n")
            questions = list(json.loads(text)["metadata"]["otter"]["tests"])
            print(f"{lab}: {copy.relative_to(HERE.parent)} ({len(questions)} questions), "
                  f"{(target / 'autograder.zip').relative_to(HERE.parent)}")
    if stale:
        print(f"student copies out of date: {', '.join(stale)}; run `make labs`",
              file=sys.stderr)
        return 1
    if args.check:
        print(f"student copies match their masters: {', '.join(chosen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
