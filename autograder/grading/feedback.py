"""Feedback pages for students: no hidden tests, limits named, readable offline.

nbgrader's stock ``generate_feedback`` renders the autograded notebook, hidden tests
included, and the tracebacks of failed tests quote the hidden lines too. The
preprocessors below run in ``GenerateFeedback.preprocessors``
(:func:`autograder.nbgrader_setup.grading_config`):

* :class:`HideHiddenTests` cuts every region between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS``, replaces the tracebacks of tests cells by their message (which
  is written for the student), and shows a cell stopped by the time limit with the limit
  alone (not the ``KeyboardInterrupt`` of the interrupt that stopped it);
* :class:`OfflineMath` turns the LaTeX of markdown cells into MathML, which browsers draw
  themselves, so the page needs no network (nbgrader's template loads MathJax from a CDN).

:func:`finish_page` then removes that MathJax script and wraps long lines, so a long
failure message stays on the screen, and puts the page's own words (nbgrader's headings:
"Score", "Test cell", "Student's answer"...) in the language of the notebook.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from ..checking.i18n import ENGLISH, N_, known, translated

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
PLACEHOLDER = N_("# (hidden tests run here when the notebook is graded; they are not shown)")
TIME_LIMIT = "TimeLimit"
"""The ``ename`` of the error output that the grader puts in a cell stopped by its time limit."""


def notebook_language(nb) -> str:
    """The language the build wrote into a notebook (``metadata.course.language``)."""
    course = nb.get("metadata", {}).get("course", {})
    return (isinstance(course, dict) and known(course.get("language"))) or ENGLISH


def strip_hidden(source: str, language: str = ENGLISH) -> str:
    lines, out, hiding = source.split("\n"), [], False
    placeholder = translated(PLACEHOLDER, language)
    for line in lines:
        if line.strip() == BEGIN:
            hiding = True
            out.append(line[: len(line) - len(line.lstrip())] + placeholder)
        elif line.strip() == END:
            hiding = False
        elif not hiding:
            out.append(line)
    return "\n".join(out)


class HideHiddenTests(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        self.language = notebook_language(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if BEGIN in cell.source:
            cell.source = strip_hidden(cell.source, getattr(self, "language", ENGLISH))
        outputs = cell.get("outputs", [])
        if any(o.output_type == "error" and o.ename == TIME_LIMIT for o in outputs):
            # the interrupt that stopped the cell says nothing the limit does not
            cell.outputs = [
                o for o in outputs if not (o.output_type == "error" and o.ename != TIME_LIMIT)
            ]
        for out in cell.get("outputs", []):
            if out.output_type == "error" and (utils.is_grade(cell) or out.ename == TIME_LIMIT):
                out.traceback = [f"{out.ename}: {out.evalue}"]
        return cell, resources


# -- math, rendered offline ---------------------------------------------------------
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$([^$\n]+?)\$(?!\$)")
_MARKDOWN_SPECIAL = {"*": "&#42;", "_": "&#95;", "\\": "&#92;", "`": "&#96;", "~": "&#126;"}


def _mathml(tex: str, display: str) -> str:
    from latex2mathml.converter import convert

    try:
        markup = convert(tex.strip(), display=display)
    except Exception:  # leave what cannot be converted as the author wrote it
        return f"${tex}$" if display == "inline" else f"$${tex}$$"

    def protect(match: re.Match) -> str:  # text between tags must not read as markdown
        text = match.group(1)
        for char, entity in _MARKDOWN_SPECIAL.items():
            text = text.replace(char, entity)
        return f">{text}<"

    return re.sub(r">([^<]*)<", protect, markup)


def math_to_mathml(markdown: str) -> str:
    """``$...$`` and ``$$...$$`` outside code as MathML, which browsers render offline."""
    parts = _CODE.split(markdown)
    for i in range(0, len(parts), 2):  # odd parts are code: left alone
        text = _DISPLAY.sub(lambda m: _mathml(m.group(1), "block"), parts[i])
        parts[i] = _INLINE.sub(lambda m: _mathml(m.group(1), "inline"), text)
    return "".join(parts)


class OfflineMath(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "$" in cell.source:
            cell.source = math_to_mathml(cell.source)
        return cell, resources


_MATHJAX = re.compile(
    r"<!-- Load mathjax -->\s*<script[^>]*mathjax[^>]*>\s*</script>\s*"
    r"(<!-- MathJax configuration -->\s*<script type=\"text/x-mathjax-config\">.*?</script>)?",
    re.S | re.I,
)
WRAP_CSS = """<style type="text/css">
/* long messages wrap instead of running off the right edge */
pre, .output_area pre, .output_subarea pre { white-space: pre-wrap; overflow-wrap: anywhere; }
math[display="block"] { margin: 0.8em 0; }
</style>
"""


def finish_page(page: str, language: str = ENGLISH) -> str:
    """A feedback page that loads nothing from the network, wraps long lines and speaks
    the notebook's language."""
    page = _MATHJAX.sub("", page)
    page = re.sub(r"<!-- (Loading|End of) mathjax[^>]*-->\s*", "", page, flags=re.I)
    page = re.sub(r"<script[^>]+src=\"https?://[^\"]*mathjax[^\"]*\"[^>]*>\s*</script>", "", page)
    page = page.replace("</head>", WRAP_CSS + "</head>", 1)
    return page_in(page, language) if language != ENGLISH else page


HTML_LANG = {"zh": "zh-CN"}
"""The ``lang`` attribute of a page in each language."""

# The words of nbgrader's feedback template (feedback/index.html.j2), found only inside its
# own headings: the top panel (title and table of contents) and each graded cell's heading.
_HEADINGS = re.compile(r'<div class="panel-heading">.*?</div>', re.S)
_PAGE_WORDS: list[tuple[re.Pattern, str]] = [
    (
        re.compile(r"Late submission penalty \(Score: -(?P<penalty>[\d.]+)\)"),
        N_("Late submission penalty (Score: -{penalty})"),
    ),
    (
        re.compile(r"\(Score: (?P<score>[\d.]+) / (?P<max_score>[\d.]+)\)"),
        N_("(Score: {score} / {max_score})"),
    ),
    (
        re.compile(r"(?<![(\w])Score: (?P<score>[\d.]+) / (?P<max_score>[\d.]+)"),
        N_("Score: {score} / {max_score}"),
    ),
    (re.compile(r"(?<=>)Test cell(?=</a>)"), N_("Test cell")),
    (re.compile(r"(?<=>)Coding free-response(?=</a>)"), N_("Coding free-response")),
    (re.compile(r"(?<=>)Written response(?=</a>)"), N_("Written response")),
    (re.compile(r"(?<=>)Task(?=</a>)"), N_("Task")),
    (re.compile(r"(?<=>)Comment(?=</a>)"), N_("Comment")),
    (re.compile(r"(?<=>)\(Top\)(?=</a>)"), N_("(Top)")),
    (re.compile(r"(?<=\">)Student's answer(?=</span>)"), N_("Student's answer")),
    (re.compile(r"(?<=\">)Student's task(?=</span>)"), N_("Student's task")),
    (re.compile(r"(?<=\">)Grade cell:(?= <code>)"), N_("Grade cell:")),
    (re.compile(r"(?<=\">)Task:(?= <code>)"), N_("Task:")),
]


def page_in(page: str, language: str) -> str:
    """nbgrader's feedback page with the words of its own headings in ``language``."""

    def words(message: str):
        return lambda match: translated(message, language, **match.groupdict())

    def heading(match: re.Match) -> str:
        text = match.group(0)
        for pattern, message in _PAGE_WORDS:
            text = pattern.sub(words(message), text)
        return text

    page = _HEADINGS.sub(heading, page)
    page = page.replace("<b>Comments:</b>", f"<b>{translated(N_('Comments:'), language)}</b>")
    return page.replace("<html>", f'<html lang="{HTML_LANG.get(language, language)}">', 1)


def message_page(title: str, message: str, language: str = ENGLISH) -> str:
    """A small feedback page for a notebook that could not be graded."""
    lang = HTML_LANG.get(language, language)
    score = translated(N_("Score: {score}"), language, score=0)
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(score)}</p><p>{html.escape(message)}</p>"
        "</body></html>\n"
    )


def write_message_page(path: Path, title: str, message: str, language: str = ENGLISH) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message_page(title, message, language), encoding="utf-8")
