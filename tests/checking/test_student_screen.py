"""What a student sees when a check fails: the message alone, its labels quoted cleanly."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from autograder.checking import Case, check_function, check_value
from autograder.checking.checks import CheckFailed, quoted

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.slow
def test_a_failed_check_shows_its_message_alone_in_the_notebook():
    """IPython renders CheckFailed without a traceback through the checking library."""
    nb = new_notebook(
        cells=[
            new_code_cell(
                "from autograder.checking import check_value\n"
                "check_value('cross-entropy by hand', 1.0, 2.0)"
            )
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    NotebookClient(nb, timeout=120, allow_errors=True).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    shown = [ANSI.sub("", line) for line in error.traceback]
    assert error.ename == "CheckFailed"
    assert shown == error.evalue.split("\n"), shown
    assert shown[0].startswith("Public check 'cross-entropy by hand' failed")
    assert not any("Traceback" in line or "checks.py" in line for line in shown)
    assert nbformat.validate(nb) is None


def test_render_traceback_is_the_message():
    error = CheckFailed("Public check 'x' failed: wrong\n  expected: 1")
    lines = [ANSI.sub("", line) for line in error._render_traceback_()]
    assert lines == ["Public check 'x' failed: wrong", "  expected: 1"]


def test_labels_holding_quotes_are_quoted_with_the_other_kind():
    assert quoted("plain") == "'plain'"
    assert quoted("worked example, reduction='none'") == "\"worked example, reduction='none'\""
    with pytest.raises(CheckFailed) as caught:
        check_function(
            lambda x: x + 1,
            lambda x: x,
            [Case("worked example, reduction='none'", (1.0,))],
        )
    message = str(caught.value)
    assert "\"worked example, reduction='none'\" failed" in message
    assert "'none''" not in message
    with pytest.raises(CheckFailed, match="has no answer yet"):
        check_value("a number", ..., 1.0)


def test_an_unfinished_helper_is_named_not_the_function_that_calls_it():
    from autograder.checking import Case, CheckFailed, check_function

    namespace: dict = {}
    exec(  # two cells of a notebook: reduce's stub, and l1_loss written on top of it
        "def reduce(losses, reduction):\n"
        "    raise NotImplementedError()\n"
        "def l1_loss(input, target, reduction='mean'):\n"
        "    return reduce((input - target).abs(), reduction)\n",
        namespace,
    )
    import torch
    import torch.nn.functional as F

    cases = [Case("one", (torch.ones(2), torch.zeros(2)), {"reduction": "mean"})]
    with pytest.raises(CheckFailed) as failed:
        check_function(namespace["l1_loss"], F.l1_loss, cases)
    assert "l1_loss calls reduce, which is not implemented yet" in str(failed.value)

    def stub(input, target, reduction="mean"):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="stub is not implemented yet"):
        check_function(stub, F.l1_loss, cases)
