"""grade-class on a real Dask LocalCluster: a worker killed mid-run loses and doubles nothing."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from autograder.grading import grade_class as grade_class_module
from autograder.grading.grade_class import grade_class
from autograder.grading.sandbox import Limits
from tests.hostile import corpus

pytestmark = pytest.mark.slow

KEEP = ("correct", "untouched", "edited_tests", "system_exit", "patch_checks", "deleted_tests")
LIMITS = Limits(cell_timeout=60, notebook_timeout=300)


def _kill_a_busy_worker(client, stored, stop: threading.Event) -> dict:
    """Once a grade is stored, SIGKILL a worker process that is grading; say which and what."""
    deadline = time.monotonic() + 600
    while not stop.is_set() and time.monotonic() < deadline:
        if stored():
            busy = {w: keys for w, keys in client.processing().items() if keys}
            if busy:
                address, keys = next(iter(busy.items()))
                time.sleep(0.5)  # well into its grading
                pid = client.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                return {"address": address, "keys": list(keys), "pid": pid}
        time.sleep(0.2)
    return {}


def test_a_killed_dask_worker_loses_nothing_and_grades_each_once(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster
    from nbgrader.api import Gradebook

    subs = [s for s in corpus.build() if s.name in KEEP]
    corpus.write(tmp_path / "submitted", subs)
    out = tmp_path / "out"
    stored: list[tuple[str, str]] = []
    finish = grade_class_module._finish

    def counting_finish(out_, db_url, task, outcome, failures, *rest):
        finish(out_, db_url, task, outcome, failures, *rest)
        stored.append((task.student, task.assignment))

    monkeypatch.setattr(grade_class_module, "_finish", counting_finish)
    with (
        LocalCluster(
            n_workers=3,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        stop = threading.Event()
        killed: dict = {}
        killer = threading.Thread(
            target=lambda: killed.update(_kill_a_busy_worker(client, lambda: stored, stop))
        )
        killer.start()
        try:
            summary = grade_class(
                tmp_path / "submitted",
                out=out,
                assignments=[corpus.TOPIC],
                limits=LIMITS,
                progress=False,
                scheduler=cluster.scheduler_address,
            )
        finally:
            stop.set()
            killer.join()
        assert killed, "no worker was grading after the first grade was stored"
        assert killed["pid"] not in client.run(os.getpid).values()  # it is gone
    # every submission stored exactly once, with the points it earned
    assert summary.failed == {}
    assert sorted(stored) == sorted((s.name, corpus.TOPIC) for s in subs)
    assert summary.graded == len(subs)
    lost = [k for k in killed["keys"] if str(k).startswith(f"grade-{corpus.TOPIC}-")]
    assert lost, killed  # the killed worker held submissions of ours...
    for key in lost:  # ...which other workers graded, once
        student = str(key).removeprefix(f"grade-{corpus.TOPIC}-").rsplit("-", 1)[0]
        assert stored.count((student, corpus.TOPIC)) == 1, (student, stored)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submissions = gb.find_assignment(corpus.TOPIC).submissions
        got = {s.student.id: s.score for s in submissions}
    assert got == pytest.approx({s.name: sum(s.expected.values()) for s in subs})
    for sub in subs:
        page = out / "feedback" / sub.name / corpus.TOPIC / f"{corpus.TOPIC}.html"
        assert page.is_file() and "BEGIN HIDDEN TESTS" not in page.read_text()
    # started again: everything is already graded, nothing is stored twice
    stored.clear()
    again = grade_class(
        tmp_path / "submitted",
        out=out,
        assignments=[corpus.TOPIC],
        limits=LIMITS,
        progress=False,
        scheduler="local",
        workers=2,
    )
    assert again.skipped == len(subs) and again.graded == 0 and stored == []
