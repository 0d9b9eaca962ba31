"""The CTC topic's inputs and known mistakes say what they claim to."""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.checking.topics import ctc_loss as cc


def test_collapse_reference_merges_runs_before_deleting_blanks():
    assert cc.collapse_reference([1, 1, 0, 1, 2, 2, 0, 0], blank=0) == [1, 1, 2]
    assert cc.collapse_reference("t-oo--o-", blank="-") == list("too")
    assert cc.collapse_reference([], blank=3) == []


def test_paths_for_counts_small_lattices():
    assert cc.paths_for("ab", 3) == ["-ab", "a-b", "aab", "ab-", "abb"]
    assert cc.paths_for("aa", 3) == ["a-a"]
    assert len(cc.paths_for("ab", 4)) == 15
    assert cc.paths_for("aa", 2) == []


def test_min_frames_counts_a_blank_between_repeats():
    assert cc.min_frames([]) == 0
    assert cc.min_frames([1, 1, 2]) == 4
    assert cc.min_frames(torch.tensor([2, 2, 2])) == 5


@pytest.mark.parametrize("seed", range(5))
def test_single_cases_are_what_their_labels_say(seed):
    cases = cc.single_cases(seed)
    for case in cases:
        log_probs, target = case.args
        blank = case.kwargs["blank"]
        assert blank not in target.tolist(), case.label
        loss = cc.torch_ctc_single(log_probs, target, blank)
        feasible = cc.min_frames(target) <= log_probs.shape[0]
        assert math.isfinite(loss) == feasible, case.label
        assert ("infeasible" in case.label) == (not feasible), case.label
    labels = " ".join(case.label for case in cases)
    for what in ("empty target", "infeasible", "one frame", "long sequence"):
        assert what in labels


@pytest.mark.parametrize("form", ["padded", "concatenated"])
@pytest.mark.parametrize("infeasible", [False, True])
def test_batch_cases_cover_forms_options_and_infeasible_targets(form, infeasible):
    cases = cc.batch_cases(7, draws=6, form=form, infeasible=infeasible)
    seen = set()
    for case in cases:
        log_probs, targets, input_lengths, target_lengths = case.args
        seen.add((case.kwargs["reduction"], case.kwargs["zero_infinity"]))
        assert targets.dim() == (2 if form == "padded" else 1)
        assert int(input_lengths.max()) == log_probs.shape[0]
        assert int(input_lengths.min()) >= 1
        losses = F.ctc_loss(*case.args, blank=case.kwargs["blank"], reduction="none")
        assert bool(torch.isinf(losses).any()) == infeasible, case.label
    options = {False, True} if infeasible else {False}
    assert seen == {(r, z) for r in cc.REDUCTIONS for z in options}
    assert any(c.args[0].shape[1] == 1 for c in cases)
    assert any(c.kwargs["blank"] != 0 for c in cases)


def test_batch_mistakes_differ_from_the_truth_where_they_apply():
    cases = cc.batch_cases(8, draws=6, infeasible=True)
    cases += cc.batch_cases(9, draws=4, form="concatenated")
    differ = {name: False for name in cc.batch_mistakes()}
    for case in cases:
        truth = F.ctc_loss(*case.args, **case.kwargs)
        for name, wrong in cc.batch_mistakes().items():
            try:
                value = wrong(*case.args, **case.kwargs)
            except Exception:
                continue
            if value is not None and not torch.allclose(value, truth, equal_nan=True):
                differ[name] = True
    assert all(differ.values()), [name for name, d in differ.items() if not d]


def test_single_mistakes_differ_from_the_truth_where_they_apply():
    differ = {name: False for name in cc.single_mistakes()}
    for case in cc.single_cases(9):
        truth = cc.torch_ctc_single(*case.args, **case.kwargs)
        for name, wrong in cc.single_mistakes().items():
            value = wrong(*case.args, **case.kwargs)
            if value is not None and not torch.allclose(value, truth, equal_nan=True):
                differ[name] = True
    assert all(differ.values()), [name for name, d in differ.items() if not d]


def test_by_hand_cases_agree_with_enumeration_and_name_real_mistakes():
    import math

    from autograder.checking.topics import ctc_loss as cc

    cases = cc.by_hand_cases(seed=0, draws=8)
    assert any(len(set(c.args[1])) < len(c.args[1]) for c in cases), "a double letter"
    for case in cases:
        probs, target = case.args
        alphabet = case.kwargs["alphabet"]
        paths = cc.paths_for(target, len(probs), alphabet)
        assert paths, case.label
        total = sum(
            math.prod(probs[t][alphabet.index(s)] for t, s in enumerate(path)) for path in paths
        )
        assert cc.ctc_by_hand_reference(probs, target, alphabet) == pytest.approx(
            -math.log(total), rel=1e-9
        )
    for name, wrong in cc.by_hand_mistakes().items():
        values = [
            (wrong(*c.args, **c.kwargs), cc.ctc_by_hand_reference(*c.args, **c.kwargs))
            for c in cases
        ]
        assert any(w is not None and w != pytest.approx(r, rel=1e-6) for w, r in values), name


def test_batch_cases_hold_long_sequences_and_int32_targets():
    """Issue 12: torch's own tests use 50 frames, targets up to 29 long, int32 targets."""
    for form in ("padded", "concatenated"):
        cases = cc.batch_cases(seed=None, form=form)
        assert any(c.args[0].shape[0] == 50 and int(c.args[3].max()) >= 25 for c in cases)
        assert any(c.args[1].dtype == torch.int32 for c in cases)
