"""The class report: in one page, what to re-teach on Monday.

:func:`write_report` reads grade-class's per-cell results (``OUT/results/<student>/
<assignment>.json``, every submission stored so far) and writes

* ``OUT/report.json``: the numbers, per assignment and per exercise: every student's
  score, how many earned all, part or none of an exercise's points, and the named mistakes
  (the checks' "This matches a known mistake: NAME." in a failed cell's message), each
  counted once per student and exercise;
* ``OUT/report.html``: the same with matplotlib figures (score distribution per assignment
  and per exercise, the exercises most often failed, the named mistakes the class made
  most), each mistake linked to its exercise's section, and that to a few students'
  feedback pages that show it.

An exercise is an answer cell with its tests cells (``metadata.course.answer``, set by
the build); its title is the heading above it in the notebook.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .. import paths

MISTAKE = re.compile(r"This matches a known mistake: (?P<name>.+?)\.?[ \t]*$", re.MULTILINE)
"""How the checks name a known mistake in a failure message."""
TOP = 12


@dataclass
class Exercise:
    """One exercise of an assignment: an answer and the tests cells that grade it."""

    assignment: str
    notebook: str
    name: str
    title: str
    cells: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"ex-{self.assignment}-{self.name}"


def _heading(source: str) -> str | None:
    for line in source.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip().replace("`", "")
    return None


def exercises(assignment: str, source: Path = paths.SOURCE) -> dict[str, Exercise]:
    """The assignment's exercises, in notebook order, by the grade id of each tests cell."""
    by_cell: dict[str, Exercise] = {}
    for path in sorted((source / assignment).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = path.stem
        found: dict[str, Exercise] = {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "markdown" and not meta.get("grade"):
                title = _heading(cell.source) or title
            if meta.get("solution") and not meta.get("grade"):
                found.setdefault(
                    meta["grade_id"], Exercise(assignment, path.stem, meta["grade_id"], title)
                )
            if meta.get("grade"):
                answer = cell.metadata.get("course", {}).get("answer") or meta["grade_id"]
                exercise = found.setdefault(
                    answer, Exercise(assignment, path.stem, answer, _heading(cell.source) or title)
                )
                exercise.cells.append(meta["grade_id"])
                by_cell[meta["grade_id"]] = exercise
    return by_cell


def _results(out: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``{assignment: {student: {notebook: result}}}`` from ``OUT/results``."""
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for path in sorted((out / "results").glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[path.stem][path.parent.name] = data
    return found


def class_data(out: Path, source: Path = paths.SOURCE) -> dict[str, Any]:
    """The report's numbers (what ``report.json`` holds)."""
    results = _results(out)
    report: dict[str, Any] = {"students": 0, "assignments": {}, "most_failed": [], "mistakes": []}
    students: set[str] = set()
    mistakes: Counter = Counter()
    seen_by: dict[tuple, list[str]] = defaultdict(list)
    for assignment in sorted(results):
        by_cell = exercises(assignment, source)
        known = {e.name: e for e in by_cell.values()}
        per_student = results[assignment]
        students.update(per_student)
        scores, max_score = [], 0.0
        points: dict[str, dict[str, float]] = {name: {} for name in known}
        maxima: dict[str, float] = dict.fromkeys(known, 0.0)
        named: dict[str, Counter] = {name: Counter() for name in known}
        for student, notebooks in sorted(per_student.items()):
            earned: Counter = Counter()
            possible: Counter = Counter()
            made: set[tuple[str, str]] = set()
            for result in notebooks.values():
                for cell in result["cells"]:
                    exercise = by_cell.get(cell["grade_id"])
                    name = exercise.name if exercise else cell["grade_id"]
                    earned[name] += cell["points"]
                    possible[name] += cell["max_points"]
                    for match in MISTAKE.finditer(cell["message"] or ""):
                        made.add((name, match["name"].strip()))
            scores.append(sum(earned.values()))
            max_score = max(max_score, sum(possible.values()))
            for name in possible:
                points.setdefault(name, {})[student] = earned[name]
                maxima[name] = max(maxima.get(name, 0.0), possible[name])
            for name, mistake in sorted(made):
                named.setdefault(name, Counter())[mistake] += 1
                mistakes[(assignment, name, mistake)] += 1
                seen_by[(assignment, name, mistake)].append(student)
        data: dict[str, Any] = {
            "submissions": len(per_student),
            "max_score": max_score,
            "scores": sorted(scores),
            "mean": sum(scores) / len(scores) if scores else 0.0,
            "exercises": {},
        }
        for name, got in points.items():
            values = [got.get(s, 0.0) for s in sorted(per_student)]
            top = maxima[name]
            full = sum(v >= top for v in values)
            zero = sum(v <= 0 for v in values) if top > 0 else 0
            exercise = known.get(name)
            data["exercises"][name] = {
                "title": exercise.title if exercise else name,
                "notebook": exercise.notebook if exercise else "",
                "anchor": f"ex-{assignment}-{name}",
                "max_points": top,
                "points": values,
                "full": full,
                "partial": len(values) - full - zero,
                "zero": zero,
                "failed": len(values) - full,
                "mistakes": dict(sorted(named[name].items(), key=lambda i: (-i[1], i[0]))),
            }
        report["assignments"][assignment] = data
    report["students"] = len(students)
    failed = [
        {
            "assignment": a,
            "exercise": name,
            "title": ex["title"],
            "anchor": ex["anchor"],
            "failed": ex["failed"],
            "of": len(ex["points"]),
        }
        for a, data in report["assignments"].items()
        for name, ex in data["exercises"].items()
        if ex["failed"]
    ]
    report["most_failed"] = sorted(failed, key=lambda f: (-f["failed"] / f["of"], f["anchor"]))
    report["mistakes"] = [
        {
            "assignment": a,
            "exercise": name,
            "mistake": mistake,
            "students": count,
            "anchor": f"ex-{a}-{name}",
            "examples": sorted(seen_by[(a, name, mistake)])[:3],
        }
        for (a, name, mistake), count in sorted(
            mistakes.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    return report


# -- drawing -------------------------------------------------------------------------
def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _img(fig, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _assignment_figures(name: str, data: dict) -> str:
    """The assignment's score distribution, and each exercise's: all, some or no points."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    top = data["max_score"] or 1
    fig = Figure(figsize=(7, 2.8), layout="constrained")
    ax = fig.subplots()
    bins = [x - 0.5 for x in range(int(top) + 2)] if top <= 40 else 20
    ax.hist(data["scores"], bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{name}: score distribution")
    parts = [_img(fig, f"{name}: score distribution")]
    exercises = list(data["exercises"].items())
    fig = Figure(figsize=(10, 1.2 + 0.32 * len(exercises)), layout="constrained")
    ax = fig.subplots()
    y = list(range(len(exercises)))
    full = [ex["full"] for _, ex in exercises]
    partial = [ex["partial"] for _, ex in exercises]
    zero = [ex["zero"] for _, ex in exercises]
    ax.barh(y, full, color="#55a868", label="all points")
    ax.barh(y, partial, left=full, color="#dd8452", label="some points")
    done = [f + p for f, p in zip(full, partial, strict=True)]
    ax.barh(y, zero, left=done, color="#c44e52", label="no points")
    ax.set_yticks(y, [_short(ex["title"] or key, 60) for key, ex in exercises])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("students")
    ax.set_title(f"{name}: points per exercise")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    parts.append(_img(fig, f"{name}: points per exercise"))
    return "\n".join(parts)


def _bars(rows: list[tuple[str, float]], title: str, xlabel: str, color: str) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 1 + 0.35 * max(len(rows), 1)), layout="constrained")
    ax = fig.subplots()
    ax.barh(range(len(rows)), [v for _, v in rows], color=color)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yticks(range(len(rows)), [_short(label, 70) for label, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _img(fig, title)


def render(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Class report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;"
        "text-align:left}img{max-width:100%}</style></head><body>",
        f"<h1>Class report</h1><p>{report['students']} students, "
        f"{len(report['assignments'])} assignments.</p>",
    ]
    failed = report["most_failed"][:TOP]
    parts.append("<h2>Exercises most often failed</h2>")
    if failed:
        rows = [(f"{f['assignment']} · {f['title']}", 100 * f["failed"] / f["of"]) for f in failed]
        parts.append(_bars(rows, "exercises most often failed", "% of students", "#c44e52"))
        parts.append("<table><tr><th>exercise</th><th>students who lost points</th></tr>")
        for f in failed:
            parts.append(
                f"<tr><td><a href='#{e(f['anchor'])}'>{e(f['assignment'])} · {e(f['title'])}"
                f"</a></td><td>{f['failed']} of {f['of']}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>Every exercise earned all its points.</p>")
    mistakes = report["mistakes"][:TOP]
    parts.append("<h2>Named mistakes the class made most</h2>")
    if mistakes:
        rows = [(f"{m['mistake']} ({m['exercise']})", m["students"]) for m in mistakes]
        parts.append(_bars(rows, "named mistakes", "students", "#8172b3"))
        parts.append("<table><tr><th>mistake</th><th>exercise</th><th>students</th></tr>")
        for m in mistakes:
            parts.append(
                f"<tr><td>{e(m['mistake'])}</td><td><a href='#{e(m['anchor'])}'>"
                f"{e(m['assignment'])} · {e(m['exercise'])}</a></td><td>{m['students']}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No failed check matched a named mistake.</p>")
    for name, data in report["assignments"].items():
        parts.append(
            f"<h2 id='{e(name)}'>{e(name)}</h2><p>{data['submissions']} submissions, "
            f"mean {data['mean']:.2f} of {data['max_score']:g}.</p>"
        )
        parts.append(_assignment_figures(name, data))
        for key, ex in data["exercises"].items():
            parts.append(
                f"<h3 id='{e(ex['anchor'])}'>{e(ex['title'])}</h3><p>"
                f"<code>{e(key)}</code> in {e(ex['notebook'])}: {ex['full']} all points, "
                f"{ex['partial']} some, {ex['zero']} none (of {len(ex['points'])}).</p>"
            )
            if ex["mistakes"]:
                parts.append("<ul>")
                for mistake, count in ex["mistakes"].items():
                    examples = next(
                        m["examples"]
                        for m in report["mistakes"]
                        if m["anchor"] == ex["anchor"] and m["mistake"] == mistake
                    )
                    links = ", ".join(
                        f"<a href='feedback/{e(s)}/{e(name)}/{e(ex['notebook'])}.html'>{e(s)}</a>"
                        for s in examples
                    )
                    parts.append(f"<li>{e(mistake)}: {count} (see {links})</li>")
                parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(out: Path, source: Path = paths.SOURCE) -> Path:
    """Write ``OUT/report.json`` and ``OUT/report.html``; the page's path."""
    report = class_data(out, source)
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    page = out / "report.html"
    page.write_text(render(report), encoding="utf-8")
    return page
