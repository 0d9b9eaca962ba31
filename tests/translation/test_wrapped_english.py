"""The English is wrapped at 100 columns, so a formula or a code span may run over a line
break; its translation is one line per paragraph. Both must read as the same formulas, code,
numbers and markdown structure."""

from __future__ import annotations

from autograder.authoring import segments

ENGLISH = (
    "1. `maximize` and `weight_decay` as before; the call `f(lr=1e-2,\n"
    "   eps=1e-8)` keeps 2 defaults;\n"
    "2. use $d = \\sqrt{a} +\n"
    "   \\varepsilon$; otherwise $d = \\sqrt{a}$;\n"
    "3. $p \\leftarrow p - \\text{lr}\\,\\dfrac{g}{d}\n"
    "   - \\text{lr}\\, m$."
)
CHINESE = (
    "1. `maximize` 和 `weight_decay` 同前；调用 `f(lr=1e-2, eps=1e-8)` 保留 2 个默认值；\n"
    "2. 使用 $d = \\sqrt{a} + \\varepsilon$；否则 $d = \\sqrt{a}$；\n"
    "3. $p \\leftarrow p - \\text{lr}\\,\\dfrac{g}{d} - \\text{lr}\\, m$。"
)


def test_a_formula_or_code_span_over_a_line_break_matches_its_one_line_translation():
    assert segments.translation_problems("markdown", ENGLISH, CHINESE) == []
    assert "`f(lr=1e-2, eps=1e-8)`" in segments.code_spans(ENGLISH)
    assert "$d = \\sqrt{a} + \\varepsilon$" in segments.formulas(ENGLISH)
    assert segments.numbers(ENGLISH) == ["1", "2", "2", "3"]  # the list marks and "2 defaults"
    assert segments.structure(ENGLISH) == ["1.", "1.", "1."]


def test_a_wrapped_span_changed_in_the_translation_is_still_refused():
    dropped = CHINESE.replace("`f(lr=1e-2, eps=1e-8)`", "f")
    changed = CHINESE.replace("+ \\varepsilon$", "- \\varepsilon$")
    assert any(
        "inline code" in p for p in segments.translation_problems("markdown", ENGLISH, dropped)
    )
    assert any("formulas" in p for p in segments.translation_problems("markdown", ENGLISH, changed))


def test_spans_do_not_run_over_a_blank_line_or_open_on_a_fence():
    assert segments.code_spans("a `b\n\nc` d") == []
    assert segments.formulas("a $b\n\nc$ d") == []
    assert segments.code_spans("```python\nx = 1\n```") == []
