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
failure message stays on the screen.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
PLACEHOLDER = "# (hidden tests run here when the notebook is graded; they are not shown)"
TIME_LIMIT = "TimeLimit"
"""The ``ename`` of the error output that the grader puts in a cell stopped by its time limit."""


def strip_hidden(source: str) -> str:
    lines, out, hiding = source.split("\n"), [], False
    for line in lines:
        if line.strip() == BEGIN:
            hiding = True
            out.append(line[: len(line) - len(line.lstrip())] + PLACEHOLDER)
        elif line.strip() == END:
            hiding = False
        elif not hiding:
            out.append(line)
    return "\n".join(out)


class HideHiddenTests(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if BEGIN in cell.source:
            cell.source = strip_hidden(cell.source)
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


def finish_page(page: str) -> str:
    """A feedback page that loads nothing from the network and wraps long lines."""
    page = _MATHJAX.sub("", page)
    page = re.sub(r"<!-- (Loading|End of) mathjax[^>]*-->\s*", "", page, flags=re.I)
    page = re.sub(r"<script[^>]+src=\"https?://[^\"]*mathjax[^\"]*\"[^>]*>\s*</script>", "", page)
    return page.replace("</head>", WRAP_CSS + "</head>", 1)


def message_page(title: str, message: str) -> str:
    """A small feedback page for a notebook that could not be graded."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>Score: 0</p><p>{html.escape(message)}</p>"
        "</body></html>\n"
    )


def write_message_page(path: Path, title: str, message: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message_page(title, message), encoding="utf-8")
