"""Grade a folder of lab submissions offline, without Docker: one CSV row per notebook.

    python labs/grade.py SUBMISSIONS [--out grades.csv] [--feedback DIR] [--lab lab3]
                         [--timeout 60] [--jobs N]

Every ``*.ipynb`` in the folder is graded by ``otter run`` (otter-grader's grading without a
container) against its lab's autograder (built from the master when needed, see
``labs/assign.py``), each in a fresh Jupyter kernel, several at once (``--jobs``, default one per
core), each within a time limit. The lab comes from the notebook's otter metadata; with
``--lab`` a notebook of another lab gets 0.

Whatever a submission does, the batch goes on: invalid JSON, a notebook of no lab or another
lab, an exception in a cell, an endless loop (killed at the time limit, with its kernel), a
kernel that dies. Each such submission gets 0 for what it breaks, and the reason in ``notes``.

Writes ``grades.csv`` (file, student_id, lab, points per question, total, possible, notes) and
one Markdown feedback file per submission (``<out stem>-feedback/<file stem>.md``) that shows
the public tests' messages but of the hidden tests only whether they passed.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import json
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# jsonschema (which nbformat and otter import) builds an RFC 3987 parser when it is imported:
# seconds of work, in this process and in every grading kernel (see _KERNEL), for format checks
# that grading never uses
sys.modules.setdefault("rfc3987_syntax", None)

import assign  # noqa: E402  (labs/assign.py, next to this script)

DEFAULT_TIMEOUT = 60
_FIRST_LINE = 60  # characters of a cell's first line quoted in notes


@dataclass
class Submission:
    """One notebook of the folder, what it is and how its grading went."""

    path: Path
    lab: str | None = None
    student_id: str | None = None
    questions: dict = field(default_factory=dict)  # name -> {score, possible, tests}
    notes: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # cells that raised
    seconds: float = 0.0
    graded: bool = False
    blocked: str | None = None  # why it cannot be graded at all (then 0 points)

    @property
    def reasons(self) -> list[str]:
        """What the notes column says: why it could not be graded, then the notes."""
        return ([self.blocked] if self.blocked else []) + self.notes

    @property
    def total(self) -> float:
        return sum(q["score"] for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q["possible"] for q in self.questions.values())


# --- looking at a submission before running it ----------------------------------------------


_LAB_IMPORT = re.compile(r"^from helpers\.grading import (lab\d+)", re.M)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _student_id(cells: list[dict]) -> str | None:
    """The literal text assigned to ``STUDENT_ID`` in the last code cell that assigns it."""
    found = None
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets):
                value = node.value
                found = str(value.value).strip() if isinstance(value, ast.Constant) and \
                    isinstance(value.value, (str, int)) and not isinstance(value.value, bool) \
                    else None
    return found or None


def inspect(path: Path, only_lab: str | None, known: list[str]) -> Submission:
    """Read a submission and decide whether it can be graded; the reason when not."""
    sub = Submission(path)
    raw = path.read_bytes()
    try:
        notebook = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        sub.blocked = f"not a notebook: not UTF-8 text ({err.reason} at byte {err.start})"
        return sub
    except json.JSONDecodeError as err:
        sub.blocked = (f"not a notebook: invalid JSON at line {err.lineno}, column "
                       f"{err.colno} ({err.msg})")
        found = re.findall(rb'"STUDENT_ID\s*=\s*\\"([0-9A-Za-z._-]+)\\"', raw)
        sub.student_id = found[-1].decode() if found else None
        return sub
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        sub.blocked = "not a notebook: the JSON has no list of cells"
        return sub
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns about what it repairs
        try:
            parsed = nbformat.reads(raw.decode("utf-8"), as_version=4)
        except Exception as err:  # nbformat raises several kinds for a malformed notebook
            sub.blocked = (f"not a valid notebook ({type(err).__name__}: "
                           f"{str(err).splitlines()[0][:120]})")
            return sub
        try:
            nbformat.validate(parsed)
        except nbformat.ValidationError as err:  # otter may still run it: grade, but say so
            sub.notes.append(f"the notebook does not follow the notebook format exactly "
                             f"({str(err).splitlines()[0][:120]}); graded anyway")
    sub.student_id = _student_id(notebook["cells"])
    sub.lab = assign.lab_of(notebook)
    if sub.lab is None:  # metadata lost (cells copied into a new notebook?): its import line
        imported = {m for cell in notebook["cells"] if cell.get("cell_type") == "code"
                    for m in _LAB_IMPORT.findall(_source(cell))} & set(known)
        if len(imported) == 1:
            sub.lab = imported.pop()
            sub.notes.append(f"no otter metadata: graded as {sub.lab}, the lab it imports")
    if sub.lab is None:
        sub.blocked = ("not a lab notebook: no otter assignment name in its metadata "
                       "(submit the copy from labs/student/)")
    elif sub.lab not in known:
        sub.blocked = f"unknown lab {sub.lab!r}; labs: {', '.join(known)}"
        sub.lab = None
    elif only_lab and sub.lab != only_lab:
        sub.blocked = f"wrong lab: this is {sub.lab}, the folder is graded as {only_lab}"
    if sub.student_id is None:
        sub.notes.append("no STUDENT_ID in the notebook")
    return sub


# --- grading one submission in a child process ------------------------------------------------


def _cell_errors(executed, original: list[dict]) -> list[dict]:
    """The submission's code cells that raised, numbered as in the submission (1-based)."""
    numbers = {}
    for i, cell in enumerate(original, start=1):
        if cell.get("cell_type") == "code":
            numbers.setdefault(_source(cell), i)
    found = []
    for cell in executed.cells if executed is not None else []:
        if cell.cell_type != "code" or cell.source not in numbers:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first = next((line for line in cell.source.splitlines() if line.strip()), "")
                found.append({"cell": numbers[cell.source], "first_line": first[:_FIRST_LINE],
                              "error": output.get("ename", "Error"),
                              "message": str(output.get("evalue", "")).splitlines()[0][:300]
                              if output.get("evalue") else ""})
    return found


def _summarise(results, original: list[dict]) -> dict:
    questions = {}
    for name, test_file in sorted(results.results.items()):
        questions[name] = {
            "score": float(test_file.score), "possible": float(test_file.possible),
            "tests": [{"name": r.test_case.name, "hidden": bool(r.test_case.hidden),
                       "passed": bool(r.passed), "points": float(r.test_case.points or 0),
                       "message": "" if r.passed else str(r.message or "")}
                      for r in test_file.test_case_results]}
    error = getattr(results, "_catastrophic_error", None)
    return {"questions": questions, "errors": _cell_errors(results.notebook, original),
            "incomplete": f"{type(error).__name__}: {error}" if error else None}


def _child(path: str, lab: str, autograder: str, out: str, log: str) -> None:
    """Grade one submission with otter run; write a JSON summary to ``out``.

    The notebook is graded under its lab's file name (``lab3.ipynb``), whatever it was
    submitted as: the notebook's otter cell opens itself by that name.
    """
    with open(log, "wb") as stream:  # otter prints a lot: keep it out of the batch's output
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
    warnings.resetwarnings()  # a fork of a test run may have turned warnings into errors
    summary: dict
    try:
        import otter.run

        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        original = notebook["cells"]
        # whatever kernel the student's Jupyter saved, grade with this environment's Python
        metadata = notebook.setdefault("metadata", {})
        metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}
        if not isinstance(metadata.get("otter"), dict):
            metadata["otter"] = {}
        metadata["otter"]["assignment_name"] = lab
        copy = Path(out).with_suffix("") / f"{lab}.ipynb"
        copy.parent.mkdir()
        copy.write_text(json.dumps(notebook), encoding="utf-8")
        results = otter.run.main(str(copy), autograder=autograder, output_dir=None,
                                 no_logo=True)
        summary = _summarise(results, original)
    except BaseException as err:  # report anything: the parent turns it into a note
        name = type(err).__name__
        if name == "DeadKernelError":
            reason = "the kernel died while running the notebook (a crash or exit in a cell)"
        else:
            text = str(err).strip().splitlines()
            reason = f"grading failed: {name}: {text[0][:200] if text else ''}"
        summary = {"failed": reason, "traceback": traceback.format_exc()[-2000:]}
    Path(out).write_text(json.dumps(summary), encoding="utf-8")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_tree(pid: int) -> None:
    for child in [*_descendants(pid), pid]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)


_KERNEL = """\
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
# otter's code in the notebook imports jsonschema, which builds an RFC 3987 parser at import
# time (seconds per kernel) for format checks that grading never uses
sys.modules.setdefault("rfc3987_syntax", None)
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def grading_kernel(folder: Path) -> Path:
    """A ``python3`` kernel spec for grading under ``folder`` (put it first on JUPYTER_PATH):
    ipykernel with this Python, minus a slow import that grading does not need."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", _KERNEL, "-f", "{connection_file}"],
        "display_name": "Python 3 (grading)", "language": "python",
        "metadata": {"debugger": False}}), encoding="utf-8")
    return folder


@contextlib.contextmanager
def _jupyter_path(folder: Path):
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), before]))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before


def _context():
    """fork where it is safe: the children share the parent's imported otter and nbconvert
    (seconds saved per submission; each still starts its own kernel). A process with other
    threads (a test run, say) spawns instead: forking it could deadlock the child."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def run_all(subs: list[Submission], autograders: dict, timeout: float, jobs: int,
            workdir: Path, progress=print) -> None:
    """Grade the gradable submissions, ``jobs`` at a time, each within ``timeout`` seconds."""
    import otter.run  # noqa: F401  (imported once here, inherited by the forked children)

    ctx = _context()
    pending = list(subs)
    running: dict = {}
    while pending or running:
        while pending and len(running) < jobs:
            sub = pending.pop(0)
            out = workdir / f"{len(running)}-{sub.path.stem}-{time.monotonic_ns()}.json"
            log = out.with_suffix(".log")
            proc = ctx.Process(target=_child, args=(str(sub.path), sub.lab,
                                                    str(autograders[sub.lab]), str(out), str(log)))
            start = time.monotonic()
            proc.start()
            running[proc.sentinel] = (proc, sub, out, start)
        ready = wait(list(running), timeout=0.5)
        now = time.monotonic()
        for sentinel in list(running):
            proc, sub, out, start = running[sentinel]
            if sentinel not in ready and now - start <= timeout:
                continue
            if sentinel not in ready:  # over the limit: kill it and its kernel
                _kill_tree(proc.pid)
                proc.join()
                sub.blocked = (f"time limit of {timeout:g} s exceeded (an endless loop or very "
                               "slow code?): 0 points")
            else:
                proc.join()
                _read_result(sub, out, proc.exitcode)
            sub.seconds = time.monotonic() - start
            sub.graded = True
            del running[sentinel]
            done = sub.blocked or f"{sub.total:g}/{sub.possible:g}"
            progress(f"  {sub.path.name}: {done} in {sub.seconds:.1f} s")


def _gradable(sub: Submission) -> bool:
    """A notebook of a known lab that nothing stops from running (a missing student ID is
    graded too: its tests fail and say why)."""
    return sub.lab is not None and sub.blocked is None


def _read_result(sub: Submission, out: Path, exitcode: int | None) -> None:
    if not out.exists():
        sub.blocked = (f"the grading process ended without a result (exit code {exitcode}): "
                       "0 points")
        return
    summary = json.loads(out.read_text(encoding="utf-8"))
    if "failed" in summary:
        sub.blocked = f"{summary['failed']}: 0 points"
        return
    sub.questions = summary["questions"]
    sub.errors = summary["errors"]
    if summary.get("incomplete"):
        sub.notes.append(f"the tests did not run to the end ({summary['incomplete']})")
    if sub.errors:
        first = sub.errors[0]
        more = len(sub.errors) - 1
        sub.notes.append(f"cell {first['cell']} ({first['first_line']!r}) raised "
                         f"{first['error']}: {first['message']}"
                         + (f"; {more} more cell{'s' * (more > 1)} raised after it" if more
                            else ""))
    hardcoded = [name for name, q in sub.questions.items()
                 if any(t["passed"] for t in q["tests"] if not t["hidden"])
                 and all(t["passed"] for t in q["tests"] if not t["hidden"])
                 and not all(t["passed"] for t in q["tests"] if t["hidden"])]
    if hardcoded:
        sub.notes.append(f"public tests pass but hidden tests fail in {', '.join(hardcoded)} "
                         "(answers that do not compute from the data?)")


# --- reports --------------------------------------------------------------------------------


def _points(value: float) -> str:
    return f"{value:g}"


def write_csv(subs: list[Submission], path: Path, points: dict[str, dict[str, float]]) -> None:
    """One row per submission; a question column for every question of the labs present."""
    names = sorted({q for qs in points.values() for q in qs}, key=lambda q: (len(q), q))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["file", "student_id", "lab", *names, "total", "possible", "notes"])
        for sub in subs:
            cells = [_points(sub.questions[n]["score"]) if n in sub.questions else ""
                     for n in names]
            writer.writerow([sub.path.name, sub.student_id or "", sub.lab or "", *cells,
                             _points(sub.total), _points(sub.possible), "; ".join(sub.reasons)])


def _public_message(message: str) -> str:
    """A failed public test's message without otter's banner."""
    lines = [line for line in message.splitlines() if not line.startswith("❌")]
    return "\n".join(lines).strip()


def write_feedback(sub: Submission, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    total = f"{_points(sub.total)} / {_points(sub.possible)}"
    lines = [f"# {sub.lab or '실습 과제'} 채점 결과: {sub.path.name}", "",
             f"- 학번(STUDENT_ID): {sub.student_id or '(없음)'}", f"- 총점: {total}", ""]
    if sub.reasons:
        lines += ["## 채점 메모 (notes)", ""] + [f"- {note}" for note in sub.reasons] + [""]
    if sub.questions:
        lines += ["## 문제별 점수", "", "| 문제 | 점수 | 공개 테스트 | 숨은 테스트 |",
                  "|---|---|---|---|"]
        for name, q in sub.questions.items():
            public = [t for t in q["tests"] if not t["hidden"]]
            hidden = [t for t in q["tests"] if t["hidden"]]
            lines.append(f"| {name} | {_points(q['score'])} / {_points(q['possible'])} | "
                         f"{_verdict(public)} | {_verdict(hidden)} |")
        lines.append("")
        failed = [(name, t) for name, q in sub.questions.items() for t in q["tests"]
                  if not t["hidden"] and not t["passed"]]
        if failed:
            lines += ["## 공개 테스트 메시지", ""]
            for name, test in failed:
                lines += [f"### {name}", "", "```", _public_message(test["message"]), "```", ""]
        lines += ["숨은 테스트는 여러분의 함수나 쿼리를 여러분이 본 적 없는 데이터로 다시 "
                  "실행합니다. 어떤 데이터로 무엇을 확인했는지는 알려 주지 않습니다.", ""]
        if any(all(t["passed"] for t in q["tests"] if not t["hidden"])
               and not all(t["passed"] for t in q["tests"] if t["hidden"])
               for q in sub.questions.values() if q["tests"]):
            lines += ["공개 테스트는 통과했지만 숨은 테스트에서 틀린 문제가 있습니다. 화면에 나온 "
                      "값을 적어 넣거나 특정 주소·시각에 맞춘 답은 다른 데이터에서 틀립니다. "
                      "항상 함수의 인자로 받은 데이터에서 계산하세요.", ""]
    if sub.errors:
        lines += ["## 실행 중 오류가 난 셀", ""]
        lines += [f"- 셀 {e['cell']} (`{e['first_line']}`): {e['error']}: {e['message']}"
                  for e in sub.errors] + [""]
    (folder / f"{sub.path.stem}.md").write_text("\n".join(lines), encoding="utf-8")


def _verdict(tests: list[dict]) -> str:
    if not tests:
        return "-"
    passed = sum(t["passed"] for t in tests)
    return "통과" if passed == len(tests) else ("실패" if not passed else
                                                f"{passed}/{len(tests)} 통과")


def _questions(lab: str) -> dict[str, float]:
    """Each question's points, from the autograder's tests."""
    import zipfile

    from otter.test_files import ExceptionTestFile

    points = {}
    with zipfile.ZipFile(assign.DIST / lab / "autograder.zip") as archive:
        for name in sorted(archive.namelist()):
            if name.startswith("tests/") and name.endswith(".py"):
                test = ExceptionTestFile.from_string(archive.read(name).decode("utf-8"), name)
                points[test.name] = float(sum(tc.points for tc in test.test_cases))
    return points


# --- the command ------------------------------------------------------------------------------


def grade_folder(folder: Path, out: Path, *, feedback: Path | None = None,
                 only_lab: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                 jobs: int | None = None, progress=print) -> list[Submission]:
    """Grade every ``*.ipynb`` of ``folder``; write the CSV and the feedback; return the rows."""
    known = assign.labs()
    if only_lab and only_lab not in known:
        raise SystemExit(f"unknown lab {only_lab!r}; labs: {', '.join(known)}")
    paths = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    subs = [inspect(p, only_lab, known) for p in paths]
    seen: dict[str, str] = {}
    for sub in subs:
        if sub.student_id and sub.student_id.casefold() in seen:
            sub.notes.append(f"same STUDENT_ID as {seen[sub.student_id.casefold()]}")
        elif sub.student_id:
            seen[sub.student_id.casefold()] = sub.path.name
    needed = sorted({s.lab for s in subs if s.lab} | ({only_lab} if only_lab else set()))
    autograders = {lab: assign.autograder(lab) for lab in needed}
    points = {lab: _questions(lab) for lab in needed}
    jobs = jobs or os.cpu_count() or 1
    progress(f"grading {len(subs)} submission{'s' * (len(subs) != 1)} of {folder} "
             f"({jobs} at a time, {timeout:g} s each at most)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labs-grade-") as tmp:
        with _jupyter_path(grading_kernel(Path(tmp) / "jupyter")):
            run_all([s for s in subs if _gradable(s)], autograders, timeout, jobs, Path(tmp),
                    progress)
    for sub in subs:  # 0 for every question a submission could not be graded on
        if sub.lab and not sub.questions:
            sub.questions = {name: {"score": 0.0, "possible": p, "tests": []}
                             for name, p in points[sub.lab].items()}
    write_csv(subs, out, points)
    feedback = feedback or out.with_name(f"{out.stem}-feedback")
    for sub in subs:
        write_feedback(sub, feedback)
    elapsed = time.monotonic() - started
    ran = [s for s in subs if s.graded and not s.blocked]
    progress(f"wrote {out} and {feedback}/: {len(subs)} rows in {elapsed:.1f} s"
             + (f"; a submission took {sum(s.seconds for s in ran) / len(ran):.1f} s on average, "
                f"{max(s.seconds for s in ran):.1f} s at most (those that ran to the end)"
                if ran else ""))
    return subs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV to write")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="folder for per-student feedback (default: <out stem>-feedback)")
    parser.add_argument("--lab", default=None, help="grade every notebook as this lab")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds one submission may take (default %(default)s)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions graded at once (default: one per core)")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    grade_folder(args.submissions, args.out, feedback=args.feedback, only_lab=args.lab or None,
                 timeout=args.timeout, jobs=args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
