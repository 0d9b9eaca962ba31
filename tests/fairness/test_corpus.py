"""Grade the corpus of realistic student answers: every correct answer earns full points,
every wrong one loses points, and the share of wrong answers whose message names their
mistake is printed (in the terminal summary).

The answers are files in ``corpus/`` (:mod:`.corpus`); each is graded inside its source
notebook, in one kernel per topic (:mod:`.grading`), located by its grade_id, never by a
notebook's name or number.
"""

from __future__ import annotations

import json
import re

import pytest

from autograder import paths

from .corpus import Answer, answers
from .grading import TopicRun, grade_answers
from .notebooks import answer_cells as find_all_cells
from .notebooks import find_all, parameters_of

ANSWERS = answers()
RESULTS = paths.ROOT / "artifacts" / "fairness"

# Answer cells whose corpus is complete (two correct answers written differently, two
# plausible wrong ones at least): every answer cell of the course, one test says so.
COMPLETE = (
    # 01
    "ce_by_hand",
    "reduce",
    "l1_loss",
    "mse_loss",
    "cross_entropy",
    "stable_cross_entropy",
    # 02
    "graph_facts",
    "gradient_snapshots",
    "numerical_gradient",
    "check_gradients",
    "l1_loss_grad",
    "mse_loss_grad",
    # 03
    "entropy",
    "cross_entropy_between",
    "kl_divergence",
    "initial_loss_check",
    # 04 (and 01's cross_entropy, told apart by its parameters)
    "logsoftmax",
    "weighted_mean",
    "nll",
    "soft_cross_entropy",
    "cross_entropy_grad",
    # 05
    "bce",
    "first_broken",
    "bce_with_logits",
    "soft_margin",
    "multilabel_soft_margin",
    "bce_with_logits_grad",
    # 06
    "smooth_l1_loss",
    "huber_loss",
    "huber_smooth_l1_relation",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "batch_kl",
    "kl_div",
    # 07
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "cosine_embedding_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    # 08 (CTC)
    "collapse",
    "alignments_by_hand",
    "ctc_single",
    "ctc_loss",
    # 09
    "retain_graph",
    "vector_jacobian_product",
    "linear_backward",
    "two_layer_grads",
    # 13
    "shapes",
    "merge_linears",
    "backward_once",
    "normalize",
    "train_one_epoch",
    "evaluate",
    # 14
    "diagnose",
    "fit",
)


# -- the corpus itself (fast) ------------------------------------------------------------


def test_every_answer_cell_is_complete():
    missing = sorted(
        f"{c.topic}: {c.grade_id}" for c in find_all_cells() if c.grade_id not in COMPLETE
    )
    assert not missing, "answer cells without a complete corpus: " + ", ".join(missing)


def test_every_answer_finds_its_cell():
    for answer in ANSWERS:
        cell = answer.cell()
        assert cell.tests, f"{answer.name}: the answer cell {cell.grade_id} has no tests cell"


def test_named_patterns_are_regular_expressions():
    for answer in ANSWERS:
        if not answer.correct:
            re.compile(answer.named)


def _normalised(source: str) -> str:
    lines = [line.split("#")[0].rstrip() for line in source.splitlines()]
    return "\n".join(line for line in lines if line.strip())


def test_correct_answers_are_written_differently_from_the_solution():
    for answer in ANSWERS:
        if answer.correct:
            solution = answer.cell().source.replace("### BEGIN SOLUTION", "")
            solution = solution.replace("### END SOLUTION", "")
            assert _normalised(answer.source) != _normalised(solution), answer.name


# The optimizer notebooks' cells (10, 11, 12), one per line.
COMPLETE += (
    "gd_path",
    "lr_limits",
    "fit_line",
    "two_group_sgd",
    "resume_sgd",
    "sgd_step",
    "sgd_other_step",
    "first_differing_step",
    "ewa",
    "best_momentum",
    "asgd_step",
    "adagrad_step",
    "rmsprop_step",
    "adadelta_step",
    "rprop_step",
    "adam_step",
    "adamw_step",
    "adamax_step",
    "nadam_step",
    "radam_step",
    "adafactor_step",
    "newton_schulz",
    "muon_step",
    "schedulers",
    "warmup_cosine_factor",
    "one_cycle_lr",
    "warm_restarts_lr",
    "plateau_lrs",
    "clip_grad_norm",
    "clip_grad_value",
    "train_clipped",
    "lbfgs",
)


@pytest.mark.parametrize("grade_id", COMPLETE)
def test_a_complete_cell_has_two_correct_and_two_wrong_answers(grade_id):
    for cell in find_all(grade_id):
        mine = [
            a
            for a in ANSWERS
            if a.grade_id == grade_id
            and (
                len(find_all(grade_id)) == 1 or parameters_of(a.source, grade_id) == cell.parameters
            )
        ]
        if not mine and len(find_all(grade_id)) > 1:
            continue  # the other topic's cell of that name is not seeded yet
        assert sum(a.correct for a in mine) >= 2, f"{grade_id}: fewer than two correct answers"
        assert sum(not a.correct for a in mine) >= 2, f"{grade_id}: fewer than two wrong answers"


# -- grading (slow: one kernel per topic) ------------------------------------------------


def _params():
    found = []
    for answer in ANSWERS:
        marks = [pytest.mark.slow, pytest.mark.xdist_group(f"corpus-{answer.cell().topic}")]
        if answer.until:
            marks.append(pytest.mark.xfail(strict=True, reason=f"until {answer.until}"))
        found.append(pytest.param(answer, marks=marks, id=answer.name))
    return found


@pytest.fixture(scope="module")
def graded():
    """One kernel per topic grades all of that topic's answers."""
    runs: dict[str, TopicRun] = {}

    def get(topic: str) -> TopicRun:
        if topic not in runs:
            mine = [(a.name, a.cell(), a.source) for a in ANSWERS if a.cell().topic == topic]
            runs[topic] = grade_answers(paths.source_notebook(topic), mine)
        return runs[topic]

    return get


def _record(answer: Answer, full: bool, named: bool, messages: list[str]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    row = {
        "name": answer.name,
        "grade_id": answer.grade_id,
        "correct": answer.correct,
        "full": full,
        "named": named,
        "taught": answer.taught,
        "until": answer.until,
        "message": messages[0][:300] if messages else "",
    }
    (RESULTS / f"corpus--{answer.name}.json").write_text(json.dumps(row))


@pytest.mark.parametrize("answer", _params())
def test_the_answer_is_graded_fairly(answer, graded):
    run = graded(answer.cell().topic)
    assert not run.errors, "the source notebook itself failed:\n" + "\n".join(run.errors)
    result = run.results[answer.name]
    named = answer.names_its_mistake(result.messages)
    _record(answer, result.full, named, result.messages)
    if answer.correct:
        assert result.full, (
            f"a correct answer ({answer.why}) earned {result.points:g}/{result.max_points:g}:\n"
            + "\n".join(result.messages)
        )
    else:
        assert not result.full, (
            f"a wrong answer ({answer.mistake}) kept all {result.max_points:g} points"
        )
