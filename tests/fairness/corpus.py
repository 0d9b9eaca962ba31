"""The corpus of realistic student answers: one answer cell per file, with what it is.

A file ``corpus/<name>.cell`` is the source a student would leave in an answer cell, after a
header of comment lines:

``# grade_id: l1_loss``
    the answer cell it fills (found in whichever source notebook has it; when two topics
    share a grade_id, the parameters of the function the answer defines choose);
``# verdict: correct`` or ``# verdict: wrong``
    whether it deserves full points, judged from the exercise text alone;
``# why: ...``
    for a correct answer, how it differs from the solution;
``# mistake: ...`` and ``# named: <regular expression>``
    for a wrong answer, the mistake, and what a failure message that names it says; left
    empty (``# named:``) for a mistake no exercise teaches about (a number typed in, say),
    which the named share counts apart;
``# until: ...``
    the grading is known to be unfair to this answer until the change described is made
    (the test then expects the failure, strictly, so that the fix shows up).

A value may go on over the next comment lines, indented by at least two spaces. The files
are not Python modules (no linter reads them): they are what a student typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .notebooks import AnswerCell, find, parameters_of

CORPUS = Path(__file__).parent / "corpus"
_HEADER = re.compile(r"# ([a-z_]+):\s*(.*)")
_MORE = re.compile(r"#\s{2,}(\S.*)")  # a header value continued on the next line
KEYS = {"grade_id", "verdict", "why", "mistake", "named", "until"}


@dataclass(frozen=True)
class Answer:
    name: str
    grade_id: str
    verdict: str
    source: str
    why: str = ""
    mistake: str = ""
    named: str = ""
    until: str = ""

    @property
    def correct(self) -> bool:
        return self.verdict == "correct"

    def cell(self) -> AnswerCell:
        return find(self.grade_id, parameters_of(self.source, self.grade_id))

    @property
    def taught(self) -> bool:
        """A wrong answer whose mistake the exercises teach about (a name is expected)."""
        return bool(self.named)

    def names_its_mistake(self, messages: list[str]) -> bool:
        return bool(self.named) and any(re.search(self.named, m, re.S) for m in messages)


def read(path: Path) -> Answer:
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        match = _HEADER.fullmatch(line.rstrip())
        more = _MORE.fullmatch(line.rstrip())
        if match:
            key, value = match.groups()
            if key not in KEYS:
                raise ValueError(f"{path.name}: unknown header {key!r}")
            fields[key] = value.strip()
        elif more and key:
            fields[key] += " " + more.group(1).strip()
        else:
            break
    missing = {"grade_id", "verdict"} - set(fields)
    if missing:
        raise ValueError(f"{path.name}: the header lacks {sorted(missing)}")
    if fields["verdict"] not in ("correct", "wrong"):
        raise ValueError(f"{path.name}: verdict must be 'correct' or 'wrong'")
    if fields["verdict"] == "wrong" and not ("mistake" in fields and "named" in fields):
        raise ValueError(f"{path.name}: a wrong answer says its mistake and how it is named")
    if fields["verdict"] == "correct" and "why" not in fields:
        raise ValueError(f"{path.name}: a correct answer says how it differs (why:)")
    return Answer(path.stem, source=text, **fields)


def answers(folder: Path = CORPUS) -> list[Answer]:
    return [read(p) for p in sorted(folder.glob("*.cell"))]
