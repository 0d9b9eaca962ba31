"""Messages in the language of the notebook: gettext catalogs with named placeholders.

Every sentence a check shows is written in English in the code, as
``tr("{kind}: {name} is not implemented yet.", kind=kind, name=name)``: the English text
is the gettext message id, ``{name}`` a named placeholder filled after translation (a
translation may put it anywhere). Names of known mistakes and labels of cases are data
written in notebooks and topic modules; :func:`mistake` and :func:`case_label` look them
up as they are shown, so the code that defines them stays the same in every edition.
:func:`N_` marks a string for extraction without translating it where it is written.

The catalogs are the standard library's compiled ``.mo`` files, written by the build from
``translations/<language>/*.po`` into ``autograder/locale/``; reading one costs a
millisecond, once, and only when a message is shown in a language other than English.

Which language: the first of

1. :func:`use` (the grader's kernel guard and tests call it);
2. the ``AUTOGRADER_LANGUAGE`` environment variable (``python -m autograder lab --language
   zh``, the grader and Validate set it for the kernels they start);
3. the notebook this kernel runs, when Jupyter says which (``JPY_SESSION_NAME``): the
   language the build wrote into its metadata, ``metadata.course.language``;
4. English.

Unknown languages count as English, and a translation that breaks its placeholders is
ignored for the English text: a message is never lost to a translation.
"""

from __future__ import annotations

import gettext
import json
import os
import re
from pathlib import Path

ENGLISH = "en"
LANGUAGES = ("en", "zh")
"""The languages a notebook can be in; the same list as :data:`autograder.paths.LANGUAGES`."""
ENV = "AUTOGRADER_LANGUAGE"
SESSION_ENV = "JPY_SESSION_NAME"
LOCALE = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "checking"
MISTAKE = "mistake"
"""The gettext context of a known mistake's name."""
CASE = "case"
"""The gettext context of a case's label."""
TEMPLATES = "case templates"
"""The context of the one entry that lists the label templates and their translations."""

# Filled in place, never rebound, so the integrity snapshot of this module stays true.
_STATE: dict[str, str | None] = {"language": None}
_CATALOGS: dict[tuple[str, str], gettext.NullTranslations] = {}
_NOTEBOOKS: dict[str, tuple[float, str | None]] = {}


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs; it is translated where it is shown."""
    return message


def use(language: str | None) -> None:
    """Show this process's messages in ``language`` (``None``: decide as usual)."""
    _STATE["language"] = language


def known(language: str | None) -> str | None:
    """``language`` if it is one of :data:`LANGUAGES` (``"zh_CN"`` counts as ``"zh"``)."""
    if not isinstance(language, str):
        return None
    base = language.replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else None


def notebook_language(path: str | os.PathLike | None) -> str | None:
    """The language the build wrote into a notebook's metadata, or ``None``."""
    if not path:
        return None
    path = str(path)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    cached = _NOTEBOOKS.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        with open(path, encoding="utf-8") as file:
            metadata = json.load(file).get("metadata", {})
        found = known(metadata.get("course", {}).get("language"))
    except (OSError, ValueError, AttributeError):
        found = None
    _NOTEBOOKS[path] = (mtime, found)
    return found


def chosen() -> str | None:
    """The language chosen for this process (:func:`use`, then ``AUTOGRADER_LANGUAGE``), if any."""
    for candidate in (_STATE["language"], os.environ.get(ENV)):
        found = known(candidate)
        if found:
            return found
    return None


def language() -> str:
    """The language messages are shown in now (see the module's docstring)."""
    session = os.environ.get(SESSION_ENV)
    if session and not session.endswith(".ipynb"):
        session = None
    return language_for(session)


def language_for(notebook: str | os.PathLike | None) -> str:
    """The language of messages about ``notebook``: the one chosen, else the notebook's own."""
    return chosen() or notebook_language(notebook) or ENGLISH


def catalog(domain: str, language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``domain`` in ``language`` (an empty one when missing)."""
    key = (domain, language)
    found = _CATALOGS.get(key)
    if found is None:
        found = gettext.translation(domain, LOCALE, [language], fallback=True)
        _CATALOGS[key] = found
    return found


def fill(text: str, english: str, values: dict[str, object]) -> str:
    """``text`` with its placeholders filled; the English when the translation breaks them."""
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        return english.format(**values)


def translate(domain: str, message: str, lang: str | None = None, /, **values: object) -> str:
    """``message`` of ``domain`` in ``lang`` (default: :func:`language`), placeholders filled."""
    lang = known(lang) or language()
    text = message if lang == ENGLISH else catalog(domain, lang).gettext(message)
    return fill(text, message, values)


GRADING = "grading"


def translated(message: str, lang: str | None, /, **values: object) -> str:
    """A message of the grader or of JupyterLab's tools (the ``grading`` catalog) in ``lang``."""
    return translate(GRADING, message, lang or ENGLISH, **values)


def tr(message: str, /, **values: object) -> str:
    """A check's message in the current language, its ``{placeholders}`` filled."""
    return translate(DOMAIN, message, None, **values)


def _in_context(context: str, text: str) -> str:
    """``text`` translated in ``context``, or without one (a string marked with :func:`N_`)."""
    lang = language()
    if lang == ENGLISH or not isinstance(text, str):
        return text
    found = catalog(DOMAIN, lang).pgettext(context, text)
    return found if found != text else catalog(DOMAIN, lang).gettext(text)


def mistake(name: str) -> str:
    """A known mistake's name (a key of a ``mistakes`` mapping) in the current language.

    A name built from a template (``{option} ignored``, for every option an optimizer
    has) is translated as a label built from one is (:func:`case_label`)."""
    found = _in_context(MISTAKE, name)
    return found if found != name else case_label(name)


def case_label(label: str) -> str:
    """A case's label in the current language.

    A label written as a plain string is looked up as it is; one built with an f-string is
    matched against the templates of the catalogs (``shape {shape}, seed {seed}``) and
    translated with its values put back, each value translated in turn when it is a label
    itself (``{label} ({options}), {steps} steps``: ``weight decay`` is a label of its own).
    A label no catalog knows stays as it is.
    """
    lang = language()
    if lang == ENGLISH or not isinstance(label, str):
        return label
    found = _in_context(CASE, label)
    if found != label:
        return found
    for pattern, fields, translation in _templates(lang):
        match = pattern.fullmatch(label)
        if match:
            # A field may hold a label built the same way ("{label}, reduction={r}"); a
            # template that is one field alone would match the label itself: no recursion then.
            values = tuple(case_label(v) if v.strip() and v != label else v for v in match.groups())
            return _fill_template(translation, fields, values)
    return label


_FIELD = re.compile(r"(?<!\{)\{[^{}]+\}(?!\})")
# A field's value keeps its brackets whole: a shape "(2, 3)" is one value, not cut at its comma.
_VALUE = r"((?:\([^()]*\)|\[[^\[\]]*\]|[^()\[\]])*?)"
_TEMPLATES: dict[str, list[tuple[re.Pattern, list[str], str]]] = {}


def _templates(lang: str) -> list[tuple[re.Pattern, list[str], str]]:
    """The label templates of ``lang``'s catalog, as patterns with their fields."""
    found = _TEMPLATES.get(lang)
    if found is not None:
        return found
    found = []
    raw = catalog(DOMAIN, lang).pgettext(TEMPLATES, "*")
    try:
        pairs = json.loads(raw) if raw != "*" else []
    except ValueError:
        pairs = []
    # The most specific template first: a general one ("{what}, seed {seed}") of another
    # notebook must not take a label that this notebook's own template fits word for word.
    for english, translation in sorted(pairs, key=lambda pair: -len(_FIELD.sub("", pair[0]))):
        parts = _FIELD.split(english)
        pattern = re.compile(_VALUE.join(re.escape(part) for part in parts), re.S)
        found.append((pattern, _FIELD.findall(english), translation))
    _TEMPLATES[lang] = found
    return found


def _fill_template(translation: str, fields: list[str], values: tuple[str, ...]) -> str:
    """``translation`` with each field replaced by the value the English had there."""
    pending: dict[str, list[str]] = {}
    for field, value in zip(fields, values, strict=False):
        pending.setdefault(field, []).append(value)
    return _FIELD.sub(lambda m: (pending.get(m.group(0)) or [m.group(0)]).pop(0), translation)
