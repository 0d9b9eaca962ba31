"""What a translation must keep: code spans are compared as Markdown renders them."""

from autograder.authoring import segments


def test_a_code_span_that_wraps_is_one_span_read_with_a_space():
    english = "Implement `f(input, target,\nreduction='mean')` for **class** targets, as `g`."
    chinese = "实现 `f(input, target, reduction='mean')`，用于**类别**目标，与 `g` 相同。"
    assert segments.code_spans(english) == segments.code_spans(chinese)
    assert segments.code_spans(english) == ["`f(input, target, reduction='mean')`", "`g`"]


def test_a_changed_code_span_still_differs():
    english = "Implement `f(input, target,\nreduction='mean')`."
    chinese = "实现 `f(input, target, reduction='sum')`。"
    assert segments.code_spans(english) != segments.code_spans(chinese)
