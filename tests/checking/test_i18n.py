"""Check messages in the notebook's language: how the language is chosen, and what is shown."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import Case, CheckFailed, check_function, check_value, i18n
from autograder.checking.mistakes import reduction_mistakes
from autograder.checking.topics.basic_losses import regression_cases


@pytest.fixture
def clean(monkeypatch):
    """No language chosen: no ``use``, no ``AUTOGRADER_LANGUAGE``, no Jupyter session."""
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv(i18n.SESSION_ENV, raising=False)
    i18n.use(None)
    yield monkeypatch
    i18n.use(None)


def failure(call) -> str:
    with pytest.raises(CheckFailed) as raised:
        call()
    return str(raised.value)


def notebook(tmp_path, language):
    path = tmp_path / f"{language}.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {"course": {"language": language}}}))
    return path


def test_english_unless_a_language_is_chosen(clean):
    assert i18n.language() == "en"
    clean.setenv(i18n.ENV, "zh")
    assert i18n.language() == "zh"
    clean.setenv(i18n.ENV, "zh_CN.UTF-8")
    assert i18n.language() == "zh"
    clean.setenv(i18n.ENV, "klingon")
    assert i18n.language() == "en"
    i18n.use("zh")
    assert i18n.language() == "zh"


def test_a_kernel_in_jupyter_speaks_its_notebooks_language(clean, tmp_path):
    clean.setenv(i18n.SESSION_ENV, str(notebook(tmp_path, "zh")))
    assert i18n.language() == "zh"
    clean.setenv(i18n.SESSION_ENV, str(notebook(tmp_path, "en")))
    assert i18n.language() == "en"
    clean.setenv(i18n.SESSION_ENV, str(tmp_path / "missing.ipynb"))
    assert i18n.language() == "en"
    clean.setenv(i18n.SESSION_ENV, str(notebook(tmp_path, "zh")))
    clean.setenv(i18n.ENV, "en")  # a language chosen for the server wins
    assert i18n.language() == "en"


def test_not_implemented_yet_in_both_languages(clean):
    def stub(input, target, reduction="mean"):
        raise NotImplementedError()

    cases = [Case("a", (torch.ones(2), torch.zeros(2)))]
    english = failure(lambda: check_function(stub, F.l1_loss, cases))
    assert english == "Public check: stub is not implemented yet."
    i18n.use("zh")
    assert failure(lambda: check_function(stub, F.l1_loss, cases)) == "公开检查：stub 还没有实现。"
    hidden = failure(lambda: check_function(stub, F.l1_loss, cases, public=False))
    assert hidden == "隐藏检查：stub 还没有实现。"


def test_a_wrong_answer_gets_a_chinese_message_with_its_mistake_named(clean):
    def summed(input, target, reduction="mean"):
        return (input - target).abs().sum()

    cases = regression_cases(seed=1)
    mistakes = reduction_mistakes(F.l1_loss)
    english = failure(lambda: check_function(summed, F.l1_loss, cases, mistakes=mistakes))
    i18n.use("zh")
    chinese = failure(lambda: check_function(summed, F.l1_loss, cases, mistakes=mistakes))
    assert "This matches a known mistake: sum instead of mean." in english
    assert "这与一个已知错误吻合：求了和（sum），而应求均值（mean）。" in chinese
    # the label, built by an f-string in the topic module, through its template
    assert "shape (7,), float64, reduction='mean', seed 1" in english
    assert "形状 (7,)，float64，reduction='mean'，随机种子 1" in chinese
    # numbers and code are the same in both
    for same in ("0.6611", "4.628", "reduction='mean'", "rtol=1e-06"):
        assert same in english and same in chinese
    assert "values differ" not in chinese and "数值不符" in chinese


def test_a_hand_computed_value_and_its_mistake(clean):
    label = "worked example (0.1, 0.2, 0.3), class 1"  # a label of 01's catalog
    mistakes = {"log base 2 instead of the natural log": 2.0}
    i18n.use("zh")
    message = failure(lambda: check_value(label, 2.0, 1.0, mistakes=mistakes))
    assert message.startswith("公开检查 '算例 (0.1, 0.2, 0.3)，类别 1' 未通过：")
    assert "已知错误吻合：取了以 2 为底的对数，而应取自然对数。" in message
    # a mistake or a label no catalog knows is shown as written
    unknown = failure(lambda: check_value("my own label", 2.0, 1.0, mistakes={"my own": 2.0}))
    assert "'my own label'" in unknown and "my own。" in unknown


def test_a_broken_translation_falls_back_to_the_english(clean):
    assert i18n.fill("{kind}：{nom}", "{kind}: {name}", {"kind": "k", "name": "n"}) == "k: n"
    assert i18n.fill("{kind}：{name}", "{kind}: {name}", {"kind": "k", "name": "n"}) == "k：n"


def test_a_forbidden_call_is_refused_in_chinese(clean):
    def uses_torch(input, target, reduction="mean"):
        return F.l1_loss(input, target, reduction=reduction)

    i18n.use("zh")
    message = failure(
        lambda: check_function(
            uses_torch, F.l1_loss, regression_cases(seed=1), forbid=["torch.nn.functional.l1_loss"]
        )
    )
    assert message == (
        "公开检查：uses_torch 用到了 torch.nn.functional.l1_loss，而这正是要亲手实现的函数。"
        "请用张量运算自己写出计算过程。"
    )


def test_a_changed_argument_is_reported_in_chinese(clean):
    def in_place(input, target, reduction="mean"):
        input.sub_(target)
        return input.abs().mean() if reduction == "mean" else None

    i18n.use("zh")
    x, y = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.5])
    message = failure(lambda: check_function(in_place, F.l1_loss, [Case("c", (x, y))]))
    assert "调用者传入的 input 被原地修改了" in message


def test_a_mistake_marked_with_n_is_translated_too(clean):
    """A mistake name a dict literal cannot hold is marked N_("..."): no context, same lookup."""
    assert i18n.N_("Public check") == "Public check"  # marks, translates nothing
    i18n.use("zh")
    assert i18n.mistake("Public check") == "公开检查"  # a context-free entry is found
    assert i18n.mistake("sum instead of mean") == "求了和（sum），而应求均值（mean）"


class _Templates:
    """A catalog that knows only label templates."""

    def __init__(self, pairs):
        self.raw = json.dumps(pairs)

    def pgettext(self, context, message):
        return self.raw if context == i18n.TEMPLATES else message

    def gettext(self, message):
        return message


@pytest.mark.parametrize(
    "pairs",
    [
        [["shape {shape}, {dtype}, seed {seed}", "形状 {shape}，{dtype}，随机种子 {seed}"]],
        [  # a more general template of another notebook, listed first, must not win
            ["{what}, seed {seed}", "{what}，随机种子 {seed}"],
            ["shape {shape}, {dtype}, seed {seed}", "形状 {shape}，{dtype}，随机种子 {seed}"],
        ],
    ],
)
def test_a_label_keeps_a_shape_whole_and_takes_its_own_template(clean, pairs):
    clean.setattr(i18n, "catalog", lambda domain, lang: _Templates(pairs))
    clean.setattr(i18n, "_TEMPLATES", {})
    i18n.use("zh")
    label = i18n.case_label("shape (2, 3), float64, seed 0")
    assert label == "形状 (2, 3)，float64，随机种子 0"


def test_a_label_built_on_another_label_is_translated_throughout(clean):
    pairs = [
        ["{label}, seed {seed}", "{label}，随机种子 {seed}"],
        ["{label}, reduction={r}", "{label}，reduction={r}"],
        ["shape {shape}, {dtype}", "形状 {shape}，{dtype}"],
    ]
    clean.setattr(i18n, "catalog", lambda domain, lang: _Templates(pairs))
    clean.setattr(i18n, "_TEMPLATES", {})
    i18n.use("zh")
    label = i18n.case_label("shape (1,), float64, seed 2, reduction='none'")
    assert label == "形状 (1,)，float64，随机种子 2，reduction='none'"
