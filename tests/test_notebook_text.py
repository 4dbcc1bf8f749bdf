"""The notebooks' Korean prose keeps the course glossary and its writing habits.

Every notebook under ``notebooks/`` (ones added later included) is read cell by cell; only
markdown counts, without code blocks, inline code, link targets and quoted text (a quote of
the lesson may use the lesson's words: 레슨의 "메트릭").

- **Avoided terms**: the "avoid" column of ``GLOSSARY.md`` (``../shared/GLOSSARY.md`` beside
  the repository, as CI has it; skipped when it is not there), read as rules:

  ==========================================  =============================================
  avoid cell                                  rule
  ==========================================  =============================================
  ``메트릭``, ``출발지, 목적지``              the term does not appear (a Hangul term that
                                              ends in 다 is a verb: its stem is searched)
  ``NACL in prose``, ``bare "M/N"``           the term does not appear
  ``ENI alone at first use``,                 the term's first appearance is inside the first
  ``bare Insights at first use``              appearance of the row's "use" form
  ``a heading "정리" next to "핵심 정리"``     no heading is "정리" alone (a parenthesis may
                                              follow it)
  ``mixing "Flow Log"/"Flow Logs" …``         the shorter form does not appear
  ``거부율 (that is a ratio)``                the term counts only in a sentence that also
                                              holds the first word of the "use" form (분당)
  ``…; keep 구간 for time ranges …``          a note, no rule
  ==========================================  =============================================

  Parenthesised remarks in a cell are notes, not terms.
- **Particles after bold or code**: no space between closing ``**`` or a closing backtick and
  a particle or a 하다/되다 ending (``**허용(ACCEPT)** 했습니다`` renders a space: write
  ``**허용**(ACCEPT)했습니다``).

The checker is tested on a small glossary and notebook made for the purpose, so it can fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT.parent / "shared" / "GLOSSARY.md"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

PARTICLES = {
    "은", "는", "이", "가", "을", "를", "의", "에", "에서", "에게", "와", "과", "도", "로", "으로",
    "만", "까지", "부터", "보다", "처럼", "이나", "나", "이고", "이며", "이다", "입니다", "이라",
    "이라는", "라는", "라고", "으로는", "로는", "에는", "에서는", "와는", "과는", "으로도", "로도",
    "에도", "이므로", "이지만", "인", "인지", "일", "이면", "면", "라면", "이라면",
}
AFTER_PARTICLE = set("만도을를은는이가에로와과")
"""A bold or code span ending in one of these ends in a particle: a verb after it stands apart."""
VERB_ENDINGS = ("했", "합니다", "하며", "하면", "하는", "하고", "하여", "해야", "해서", "하지",
                "됩니다", "되었", "되어", "된다", "되는", "되면")


# --- the glossary's rules --------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One check read from the glossary's avoid column."""

    kind: str  # "term", "first-use", "heading", "singular"
    term: str
    use: str  # the glossary's "use" form (what to write instead)
    longer: str = ""  # "singular": the longer form that may appear
    cue: str = ""  # "term" with a remark "(that is ...)": only in a sentence holding this word


def _table(text: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table with an "avoid" column, as dicts."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = _cells(line)
        if cells and "avoid" in [c.lower() for c in cells]:
            header = [c.lower() for c in cells]
            rows = []
            for row in lines[i + 2:]:
                if not row.strip().startswith("|"):
                    break
                values = _cells(row)
                rows.append(dict(zip(header, values + [""] * (len(header) - len(values)))))
            return rows
    raise ValueError("GLOSSARY.md has no table with an 'avoid' column")


def _cells(line: str) -> list[str]:
    line = line.strip()
    if not line.startswith("|"):
        return []
    return [c.strip() for c in line.strip("|").split("|")]


def _use_form(use: str) -> str:
    """The form to write: the use cell up to a spaced remark ("X (then Y)" → "X")."""
    return use.split(" (")[0].strip()


def _unquote(text: str) -> str:
    return text.strip().strip('"“”`').strip()


def rules_from(text: str) -> list[Rule]:
    """Every rule of a glossary's avoid column (see the module docstring)."""
    rules = []
    for row in _table(text):
        avoid, use = row.get("avoid", ""), _use_form(row.get("use", ""))
        for clause in avoid.split(";"):
            clause = clause.strip()
            quoted = re.findall(r'"([^"]+)"', clause)
            if not clause:
                continue
            if clause.startswith("mixing"):
                short, long = sorted(quoted[:2], key=len)
                rules.append(Rule("singular", short, use, long[len(short):]))
                continue
            if clause.startswith("a heading"):
                rules.append(Rule("heading", quoted[0], use))
                continue
            # "거부율 (that is a ratio)": the word is right for what it names (a ratio) and wrong
            # for the row's concept, so it counts only beside the concept's cue, the first word
            # of the "use" form (분당 거부 수 → 분당). Other remarks are notes.
            cue = use.split()[0] if re.search(r"\(that is\b", clause) and use else ""
            clause = re.sub(r"\s*\([^)]*\)", "", clause)
            first = clause.split()[0] if clause.split() else ""
            if first.isascii() and first.islower() and first != "bare":
                continue  # a note such as "keep 구간 for time ranges on charts"
            for term in clause.split(","):
                term = term.strip()
                if not term:
                    continue
                first_use = re.fullmatch(r"(?:bare\s+)?(.+?)(?:\s+alone)?\s+at first use", term)
                if first_use:
                    rules.append(Rule("first-use", _unquote(first_use.group(1)), use))
                    continue
                term = re.sub(r"^bare\s+", "", term)
                term = re.sub(r"\s+in(?: Korean)? prose$", "", term)
                rules.append(Rule("term", _unquote(term), use, cue=cue))
    return rules


# --- the notebooks' prose ----------------------------------------------------------------------


_FENCE = re.compile(r"```.*?```", re.S)
_CODE = re.compile(r"`[^`\n]+`")
_LINK = re.compile(r"\]\([^)]*\)")
_QUOTE = re.compile(r'"[^"\n]*"|“[^”\n]*”|「[^」\n]*」')


def prose(source: str) -> str:
    """Markdown without code, link targets and quotations (blanked, so positions hold)."""
    blank = lambda m: " " * len(m.group())  # noqa: E731
    for pattern in (_FENCE, _CODE, _LINK, _QUOTE):
        source = pattern.sub(blank, source)
    return source


def _pattern(term: str) -> re.Pattern:
    if re.fullmatch(r"[가-힣 ]+다", term):
        term = term[:-1]  # a verb: 역할을 맡다 → 역할을 맡(을, 았습니다, ...)
    body = re.escape(term)
    if term[:1].isascii() and term[:1].isalnum():
        body = r"(?<![A-Za-z0-9_])" + body
    if term[-1:].isascii() and term[-1:].isalnum():
        body += r"(?![a-z0-9_])"
    return re.compile(body)


def _heading_text(line: str) -> str | None:
    match = re.match(r"#{1,6}\s+(.*)", line)
    if not match:
        return None
    return re.sub(r"\s*\([^)]*\)", "", match.group(1)).strip()


def glossary_problems(path: Path, rules: list[Rule]) -> list[str]:
    """Each place a notebook's markdown breaks a glossary rule."""
    notebook = nbformat.read(path, as_version=4)
    cells = [(i, c.source) for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"]
    found = []
    for rule in rules:
        if rule.kind == "first-use":
            found += _first_use(path.name, cells, rule)
            continue
        for number, source in cells:
            if rule.kind == "heading":
                for line in source.splitlines():
                    if _heading_text(line) == rule.term:
                        found.append(f"{path.name} cell {number}: heading {line.strip()!r}; "
                                     f"name it for what it is (clean-up: '{rule.use}')")
                continue
            text = prose(source)
            pattern = _pattern(rule.term)
            for match in pattern.finditer(text):
                if rule.kind == "singular" and text.startswith(rule.longer, match.end()):
                    continue
                if rule.cue and rule.cue not in _sentence(text, match.start()):
                    continue
                context = source[max(0, match.start() - 15):match.end() + 15].replace("\n", " ")
                found.append(f"{path.name} cell {number}: {rule.term!r} in …{context}…; "
                             f"write '{rule.use}'")
    return found


def _sentence(text: str, at: int) -> str:
    """The sentence (or table cell, or line) around position ``at``."""
    stops = ".!?|\n"
    start = max(text.rfind(c, 0, at) for c in stops) + 1
    ends = [i for i in (text.find(c, at) for c in stops) if i != -1]
    return text[start:min(ends) if ends else len(text)]


def _first_use(name: str, cells, rule: Rule) -> list[str]:
    """The term may appear only from inside the first appearance of its "use" form on."""
    text = "\n".join(prose(source) for _, source in cells)
    term = _pattern(rule.term).search(text)
    if term is None:
        return []
    use = text.find(rule.use)
    if use != -1 and term.start() >= use:
        return []  # inside the full form, or after it
    ends = [len(source) for _, source in cells]
    starts = [sum(ends[:i]) + i for i in range(len(cells))]  # "\n".join adds one per cell
    number = next(n for (n, _), start in zip(reversed(cells), reversed(starts))
                  if start <= term.start())
    return [f"{name} cell {number}: {rule.term!r} appears before '{rule.use}' (its first "
            "mention must be the full form)"]


_BOLD_END = re.compile(r"\*\*[^*\n]+?\*\*")


def particle_problems(path: Path) -> list[str]:
    """Each space between closing bold or code and a particle in a notebook's markdown."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        source = _FENCE.sub(lambda m: " " * len(m.group()), cell.source)
        for pattern in (_CODE, _BOLD_END):
            for match in pattern.finditer(source):
                rest = source[match.end():]
                after = re.match(r"[ \t]+([가-힣]+)", rest)
                if after and after.group(1) == "이" and rest[after.end():after.end() + 1].isspace():
                    continue  # 이 followed by a space is the determiner ("이 정책은"), not 이/가
                inner = match.group().strip("*`").rstrip(" .,")
                if after and after.group(1).startswith(VERB_ENDINGS) \
                        and inner[-1:] in AFTER_PARTICLE:
                    continue  # "**저장만** 하고": 하다 after a particle is a word of its own
                if after and (after.group(1) in PARTICLES
                              or after.group(1).startswith(VERB_ENDINGS)):
                    shown = source[match.start():match.end() + after.end()]
                    found.append(f"{path.name} cell {number}: {shown!r}: no space before "
                                 f"{after.group(1)!r}")
    return found


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def glossary_rules():
    if not GLOSSARY.exists():
        pytest.skip(f"no glossary at {GLOSSARY} (CI has ../shared beside the repository)")
    return rules_from(GLOSSARY.read_text(encoding="utf-8"))


def test_the_glossary_gives_rules_of_every_kind(glossary_rules):
    kinds = {r.kind for r in glossary_rules}
    assert {"term", "first-use", "heading"} <= kinds
    terms = {r.term for r in glossary_rules if r.kind == "term"}
    assert {"메트릭", "NACL", "M/N", "SNS 토픽"} <= terms


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_prose_keeps_the_glossary(path, glossary_rules):
    assert glossary_problems(path, glossary_rules) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_space_between_bold_or_code_and_a_particle(path):
    assert particle_problems(path) == []


# --- the checker, on a glossary and a notebook made for the purpose ---------------------------


SAMPLE_GLOSSARY = """\
| concept (English) | use | first mention adds | avoid |
|---|---|---|---|
| VPC Flow Logs | VPC Flow Logs | | mixing "Flow Log"/"Flow Logs" for the same thing: one |
| metric | 지표 | (레슨의 "메트릭") | 메트릭 |
| evaluation | 평가 기간 N | | bare "M/N" |
| network ACL | 네트워크 ACL | | NACL in prose |
| aggregation | 집계 간격 | | 집계 구간; keep 구간 for time ranges on charts |
| Insights | CloudWatch Logs Insights (then Logs Insights) | | CloudWatch Insights, bare \
Insights at first use |
| assume | 역할 수임 | | 역할을 맡다 |
| source | 소스 / 대상 | | 출발지, 목적지 (목적지 only when quoting the lesson) |
| clean-up | 리소스 정리 | | a heading "정리" next to "핵심 정리" |
| rejects per minute | 분당 거부 수 | | 거부율 (that is a ratio) |
"""


def test_the_rules_are_read_from_the_avoid_column():
    rules = rules_from(SAMPLE_GLOSSARY)
    assert Rule("singular", "Flow Log", "VPC Flow Logs", "s") in rules
    assert Rule("term", "M/N", "평가 기간 N") in rules
    assert Rule("term", "NACL", "네트워크 ACL") in rules
    assert Rule("first-use", "Insights", "CloudWatch Logs Insights") in rules
    assert Rule("heading", "정리", "리소스 정리") in rules
    assert Rule("term", "거부율", "분당 거부 수", cue="분당") in rules
    assert {r.term for r in rules if r.kind == "term"} == {
        "메트릭", "M/N", "NACL", "집계 구간", "CloudWatch Insights", "역할을 맡다", "출발지",
        "목적지", "거부율"}


def _notebook(tmp_path, *sources) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s)
                                               for s in sources]
                                        + [nbformat.v4.new_code_cell("메트릭 = 1")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, path)
    return path


def test_the_checker_finds_each_kind_of_breach(tmp_path):
    path = _notebook(
        tmp_path,
        "Logs Insights로 메트릭을 봅니다. NACL과 M/N, 집계 구간.",
        "## 정리\n\n역할을 맡을 수 있게 하고 출발지를 봅니다. Flow Log 하나.",
        "하루의 거부율은 3%입니다. 분당 100건이 넘는 거부율에 경보를 겁니다.",
    )
    problems = glossary_problems(path, rules_from(SAMPLE_GLOSSARY))
    found = {p.split(": ")[1].split(" ")[0] for p in problems}
    assert found == {"'메트릭'", "'NACL'", "'M/N'", "'집계", "'Insights'", "heading",
                     "'역할을", "'출발지'", "'Flow", "'거부율'"}
    assert sum("'거부율'" in p for p in problems) == 1  # the ratio is fine; per minute is not
    assert all(p.startswith("nb.ipynb cell ") for p in problems)


def test_the_checker_allows_quotes_code_links_and_the_full_form_first(tmp_path):
    path = _notebook(
        tmp_path,
        '지표(레슨의 "메트릭")와 `NACL`, [링크](https://x.com/M/N)와 「집계 구간」.',
        "CloudWatch Logs Insights를 쓰고, 다음부터는 Logs Insights라고 합니다. Flow Logs.",
        "## 리소스 정리\n\n## 정리 방법\n\n```\n메트릭 NACL\n```",
    )
    assert glossary_problems(path, rules_from(SAMPLE_GLOSSARY)) == []


def test_a_heading_with_a_remark_is_still_the_bare_word(tmp_path):
    path = _notebook(tmp_path, "## 정리(teardown)")
    assert glossary_problems(path, rules_from(SAMPLE_GLOSSARY)) == [
        "nb.ipynb cell 0: heading '## 정리(teardown)'; name it for what it is (clean-up: "
        "'리소스 정리')"]


def test_the_particle_check(tmp_path):
    path = _notebook(tmp_path, "**허용(ACCEPT)** 했습니다. `srcaddr` 는 아닙니다.",
                     "**허용**(ACCEPT)했습니다. `srcaddr`는 맞고, **10분** 후에 봅니다. "
                     "**바로잡기.** 이 정책은 넓습니다. 값을 **저장만** 하고 씁니다.")
    assert particle_problems(path) == [
        "nb.ipynb cell 0: '`srcaddr` 는': no space before '는'",
        "nb.ipynb cell 0: '**허용(ACCEPT)** 했습니다': no space before '했습니다'"]
