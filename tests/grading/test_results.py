"""The typed results: scores add up, and JSON round-trips."""

import json

from autograder.grading.results import CellResult, NotebookResult, results_json, total


def _result(points: list[float]) -> NotebookResult:
    cells = [
        CellResult(f"test_{i}", p, 2.0, p >= 2.0, None if p >= 2.0 else "why")
        for i, p in enumerate(points)
    ]
    return NotebookResult("01_a", "01_a", "graded", None, cells, notes=["a note"])


def test_scores_add_up_per_notebook_and_per_student():
    one, two = _result([2.0, 0.0]), _result([1.0])
    assert (one.score, one.max_score) == (2.0, 4.0)
    assert total({"01_a": {"01_a": one}, "02_b": {"02_b": two}}) == (3.0, 6.0)


def test_json_carries_every_field_and_the_scores_and_reads_back():
    result = _result([2.0, 1.5])
    data = json.loads(json.dumps(result.to_json()))
    assert data["score"] == 3.5 and data["max_score"] == 4.0
    assert data["cells"][1] == {
        "grade_id": "test_1",
        "points": 1.5,
        "max_points": 2.0,
        "passed": False,
        "message": "why",
    }
    assert NotebookResult.from_json(data) == result
    assert results_json({"01_a": {"01_a": result}})["01_a"]["01_a"] == data
