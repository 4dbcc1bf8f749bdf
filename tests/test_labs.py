"""The graded labs: per-student data, checks, student copies, and batch grading end to end.

- The committed student copies are exactly what ``labs/assign.py`` builds from the masters.
- Every master scores full marks, every blank student copy 0, and a prepared hard-coded
  submission only its public tests' points: its answers are right for its student and wrong on
  the hidden tests' data. These run the notebooks' code and the autograders' test files in this
  process (cheap); one lab goes through the real thing below.
- ``labs/grade.py`` grades a folder of lab 3 submissions (correct, blank, hard-coded, invalid
  JSON, endless loop, dead kernel) with otter run, each in its own kernel, and writes the CSV
  and the feedback.
"""

from __future__ import annotations

import csv
import importlib.util
import ipaddress
import sys
import warnings
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import ROOT

from helpers import traffic
from helpers.grading import GradingError, Mismatch, core, lab1, lab2, lab3, lab4
from helpers.grading.results import compare_table

LABS = ["lab1", "lab2", "lab3", "lab4"]
# otter-grader imports ipylab, whose traits use a form traitlets deprecates: not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Traits should be given as instances:DeprecationWarning")


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(ROOT / "labs"))
assign = _load("assign", ROOT / "labs" / "assign.py")
grade = _load("grade", ROOT / "labs" / "grade.py")
submissions = _load("lab_submissions", ROOT / "tests" / "fixtures" / "labs" / "submissions.py")


# --- student IDs, seeds and each student's data ----------------------------------------------


def test_a_student_seed_is_a_stable_crc32_of_lab_and_id():
    assert core.student_seed("lab3", "20240001") == 3602791610  # zlib.crc32(b"lab3/20240001")
    assert core.student_seed("lab3", " 20240001 ") == core.student_seed("lab3", 20240001)
    assert core.student_seed("lab1", "S1") == core.student_seed("lab1", "s1")


@pytest.mark.parametrize("value, message", [
    (..., "STUDENT_ID is empty"), ("", "STUDENT_ID is empty"), ("  ", "STUDENT_ID is empty"),
    (3.5, "must be text"), ("a b", "is not a student ID"), ("-x", "is not a student ID"),
])
def test_a_missing_or_odd_student_id_is_refused_with_a_reason(value, message):
    with pytest.raises(GradingError, match=message):
        core.check_student_id(value)


def test_the_hidden_seed_can_be_set_at_grading_time(monkeypatch):
    assert core.hidden_seed(7) == 7
    monkeypatch.setenv("LAB_HIDDEN_SEED", "123")
    assert core.hidden_seed(7) == 123
    monkeypatch.setenv("LAB_HIDDEN_SEED", "abc")
    with pytest.raises(GradingError, match="LAB_HIDDEN_SEED"):
        core.hidden_seed(7)


def test_neighbours_get_different_answers():
    a, b = lab3.student_data("20240001"), lab3.student_data("20240002")
    assert lab3.find_scanner(a) != lab3.find_scanner(b)
    assert lab3.exfiltration(a) != lab3.exfiltration(b)
    assert lab3.brute_force_target(a)[0] != lab3.brute_force_target(b)[0]
    assert lab4.student_data("20240001").log_group != lab4.student_data("20240002").log_group


def test_a_students_data_is_the_same_every_time():
    first = lab2.student_data("20240001")
    lab2._records.cache_clear()
    pd.testing.assert_frame_equal(first, lab2.student_data("20240001"))
    assert "label" not in first.columns


def test_remapping_internet_addresses_keeps_every_verdict():
    seed = 11
    mapped = core.make_records(seed, lab3.SCENARIOS, "1h")
    plain = traffic.generate(
        lab3.SCENARIOS, seed=(seed * 31) % 2**32, duration="1h",
        start=core.LESSON_START + 86400 * (seed % core.DAYS), topology=core.lab_topology(seed))
    assert (mapped["action"].fillna("-") == plain["action"].fillna("-")).all()
    changed = mapped["srcaddr"] != plain["srcaddr"]
    assert changed.any() and not mapped.loc[changed, "srcaddr"].str.startswith(
        ("10.", "198.51.100.")).any()


@pytest.mark.parametrize("seed", range(8))
def test_lab3s_rules_find_what_the_generator_labelled(seed):
    truth = lab3.truth(lab3.labelled_data(seed=seed))
    df = lab3.student_data(seed=seed)
    assert lab3.find_scanner(df) == truth["scanner"]
    assert lab3.brute_force_target(df) == truth["brute_force_target"]
    assert lab3.exfiltration(df) == truth["exfiltration"]
    start, end = lab3.exfiltration_window(df)
    assert abs(start - truth["window"][0]) <= 60 and abs(end - truth["window"][1]) <= 60


# --- checks accept equivalent answers and refuse wrong ones ----------------------------------


def test_answer_keys_refuse_to_run_inside_a_students_function():
    with pytest.raises(Mismatch, match="answer keys are not available"):
        lab3.check_scanner(lambda df: lab3.find_scanner(df), seed=5)


def test_equivalent_answers_pass():
    df = lab3.student_data(seed=5)
    scanner = lab3.find_scanner(df)
    lab3.check_scanner(lambda df: ipaddress.ip_address(scanner), seed=5)
    address, port = lab3.brute_force_target(df)
    lab3.check_brute_force(lambda df: [address, str(port)], seed=5)
    start, end = lab3.exfiltration_window(df)
    lab3.check_window(lambda df: (pd.Timestamp(start + 30, unit="s"),
                                  pd.Timestamp(end, unit="s", tz="UTC").isoformat()), seed=5)
    rates = lab1.reject_rate(lab1.student_data(seed=5))
    lab1.check_reject_rate(lambda df: pd.Series(rates) * 100, seed=5)


@pytest.mark.parametrize("answer, message", [
    (lambda df: None, "None을 돌려주었습니다"),
    (lambda df: ..., "아직 ...을 돌려줍니다"),
    (lambda df: 1 / 0, "ZeroDivisionError"),
    (lambda df: "not an address", "IP 주소가 아닌"),
    (lambda df: "8.8.8.8", "스캐너가 아닙니다"),
])
def test_wrong_answers_fail_with_a_reason(answer, message):
    with pytest.raises(Mismatch, match=message):
        lab3.check_scanner(answer, seed=5)


def test_query_results_are_compared_by_content():
    expected = pd.DataFrame({"srcaddr": ["a", "b", "c", "d"], "n": [5, 3, 3, 1]})
    good = pd.DataFrame({"count": [5, 3], "source": ["a", "c"]})  # a tie broken the other way
    compare_table(good, expected, ["srcaddr"], ["n"], n=2, ordered=True)
    with pytest.raises(Mismatch, match="2행이어야"):
        compare_table(good.head(1), expected, ["srcaddr"], ["n"], n=2)
    with pytest.raises(Mismatch, match="맞지 않습니다"):
        compare_table(pd.DataFrame({"s": ["a", "d"], "n": [5, 1]}), expected, ["srcaddr"], ["n"],
                      n=2)
    with pytest.raises(Mismatch, match="맞지 않습니다"):  # right rows, wrong order
        compare_table(good.iloc[::-1], expected, ["srcaddr"], ["n"], n=2, ordered=True)


def test_a_query_with_the_lessons_field_names_fails_with_insights_warning():
    query = 'filter action = "REJECT" | stats count_distinct(dstport) as ports by srcaddr'
    with pytest.raises(Mismatch, match="경고: .*does not exist"):
        lab2.check_query("q4", query, seed=3)


# --- student copies -------------------------------------------------------------------------


def test_the_committed_student_copies_are_what_the_build_makes(capsys):
    assert assign.main(["--check"]) == 0


def test_student_copies_hold_no_solution_and_no_hidden_test():
    for lab in LABS:
        copy = nbformat.read(ROOT / "labs" / "student" / f"{lab}.ipynb", 4)
        master = nbformat.read(ROOT / "labs" / "source" / f"{lab}.ipynb", 4)
        text = "\n".join(cell.source for cell in copy.cells)
        source = "\n".join(cell.source for cell in master.cells)
        assert "hidden_seed" in source and "hidden_seed" not in text
        assert "BEGIN SOLUTION" in source and "SOLUTION" not in text
        assert '"20240001"  # SOLUTION' in source and "\nSTUDENT_ID = ...\n" in text + "\n"
        assert copy.metadata["otter"]["assignment_name"] == lab


# --- every master full marks, every blank copy 0, hard-coded answers public points only ----


def _score_in_process(notebook: nbformat.NotebookNode, lab: str) -> dict[str, tuple]:
    """Run a notebook's code here and its autograder's tests on the result, as otter does in
    the kernel: {question: (points, public points, possible)}."""
    from otter.test_files import ExceptionTestFile

    env: dict = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cell in notebook.cells:
            if cell.cell_type != "code" or "otter" in cell.source or "grader." in cell.source:
                continue
            try:
                exec(compile(cell.source, f"<{lab}>", "exec"), env)
            except Exception:  # a cell that fails counts as it would in the kernel
                pass
        scores = {}
        with zipfile.ZipFile(assign.autograder(lab)) as archive:
            for name in sorted(archive.namelist()):
                if name.startswith("tests/") and name.endswith(".py"):
                    test = ExceptionTestFile.from_string(archive.read(name).decode(), name)
                    test.run(env)
                    public = sum(r.test_case.points for r in test.test_case_results
                                 if r.passed and not r.test_case.hidden)
                    scores[test.name] = (test.score, public, test.possible)
    return scores


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folders = {}
    for lab in LABS:
        assign.autograder(lab)
        folders[lab] = submissions.write_submissions(lab, tmp_path_factory.mktemp(lab))
    return folders


@pytest.mark.parametrize("lab", LABS)
def test_each_master_scores_full_marks(prepared, lab):
    scores = _score_in_process(nbformat.read(prepared[lab]["correct"], 4), lab)
    assert scores and all(points == possible for points, _, possible in scores.values())


@pytest.mark.parametrize("lab", LABS)
def test_each_blank_student_copy_scores_zero(prepared, lab):
    scores = _score_in_process(nbformat.read(prepared[lab]["blank"], 4), lab)
    assert scores and all(points == 0 for points, _, _ in scores.values())


@pytest.mark.parametrize("lab", LABS)
def test_hard_coded_answers_pass_the_public_tests_and_fail_the_hidden_ones(prepared, lab):
    scores = _score_in_process(nbformat.read(prepared[lab]["hardcoded"], 4), lab)
    assert scores
    for question, (points, public, possible) in scores.items():
        assert public == 1 and points == public < possible, question


# --- make grade, end to end -------------------------------------------------------------------


def test_grading_a_folder_gives_each_submission_its_score_and_reason(tmp_path):
    folder = tmp_path / "submissions"
    assign.autograder("lab3")
    written = submissions.write_submissions("lab3", folder, extra=True)
    # graded in name order, two at a time: start the endless loop first, so that its time
    # limit runs while the others are graded
    written["endless-loop"].rename(folder / "a-endless-loop.ipynb")
    (folder / "wrong-lab.ipynb").write_bytes((ROOT / "labs" / "student" / "lab1.ipynb")
                                              .read_bytes())
    copied = nbformat.read(written["correct"], 4)  # cells pasted into a new notebook
    copied.metadata = {"kernelspec": {"name": "my-env", "display_name": "x", "language": "python"}}
    nbformat.write(copied, folder / "no-metadata.ipynb")
    out = tmp_path / "grades.csv"
    subs = grade.grade_folder(folder, out, only_lab="lab3", timeout=20, progress=print)
    with out.open(encoding="utf-8") as stream:
        rows = {row["file"]: row for row in csv.DictReader(stream)}
    assert list(rows["correct.ipynb"])[:8] == ["file", "student_id", "lab", "q1", "q2", "q3",
                                               "q4", "total"]
    assert (rows["correct.ipynb"]["total"], rows["correct.ipynb"]["possible"]) == ("12", "12")
    assert rows["correct.ipynb"]["student_id"] == submissions.STUDENT_ID
    assert rows["blank.ipynb"]["total"] == "0"
    assert "STUDENT_ID is empty" in rows["blank.ipynb"]["notes"]
    hard = rows["hardcoded.ipynb"]
    assert [hard[q] for q in ("q1", "q2", "q3", "q4")] == ["1", "1", "1", "1"]
    assert "hidden tests fail" in hard["notes"]
    assert rows["invalid-json.ipynb"]["total"] == "0"
    assert "invalid JSON" in rows["invalid-json.ipynb"]["notes"]
    assert rows["a-endless-loop.ipynb"]["total"] == "0"
    assert "time limit of 20 s exceeded" in rows["a-endless-loop.ipynb"]["notes"]
    assert rows["dead-kernel.ipynb"]["total"] == "0"
    assert "kernel died" in rows["dead-kernel.ipynb"]["notes"]
    assert rows["wrong-lab.ipynb"]["total"] == "0"
    assert "wrong lab: this is lab1" in rows["wrong-lab.ipynb"]["notes"]
    assert rows["no-metadata.ipynb"]["total"] == "12"
    assert "graded as lab3, the lab it imports" in rows["no-metadata.ipynb"]["notes"]
    feedback = (tmp_path / "grades-feedback" / "hardcoded.md").read_text(encoding="utf-8")
    assert "숨은 테스트" in feedback and "hidden_seed" not in feedback
    assert "| q1 | 1 / 3 | 통과 | 실패 |" in feedback
    graded = [s for s in subs if s.graded and not s.blocked]
    print("seconds per graded submission:", {s.path.name: round(s.seconds, 1) for s in graded})
