"""Where grade-class's submissions are graded: worker processes here, or a Dask cluster.

Both hand each task to a worker (:mod:`.workers`) and call ``on_outcome(task, outcome)``
in the starting process, once per task, as results arrive: that process alone writes the
gradebook, the results and the ledger (:mod:`.grade_class`), so a worker that dies loses
nothing stored, and a task is stored once whatever happened to its workers.

* :func:`run_local`: ``--workers N`` processes forked here, each with its own private
  course copied from a template. A task whose worker died is tried once more in a new pool;
  a second death is recorded as the task's failure.
* :func:`run_dask`: ``--scheduler ADDRESS``, a ``dask.distributed`` cluster (``local``
  starts a ``LocalCluster`` of N worker processes here). The submission's files travel with
  the task and the feedback pages come back with the result, so workers need no shared
  folder, only the same checkout of the course. When a worker dies, Dask gives its tasks to
  the others; a task that kills ``distributed.scheduler.allowed-failures`` + 1 workers is
  recorded as failed. At most a few tasks per worker are in flight at once, so a large class
  is not held in the scheduler's memory.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .sandbox import Limits
from .tasks import Outcome, Task
from .workers import close_graders, grade_shipment, grade_task, init_worker, ship

OnOutcome = Callable[[Task, Outcome], None]
IN_FLIGHT_PER_WORKER = 4


def longest_first(tasks: list[Task], ledger: Path) -> list[Task]:
    """The tasks, those expected to take longest first, so that no worker finishes alone.

    An assignment's expected seconds are the mean of what its submissions took in earlier
    runs (the ledger's ``seconds``); without any, later topics first (in this course they
    run longer: the optimizers, the training loop).
    """
    taken: dict[str, list[float]] = {}
    for path in ledger.glob("*/*.json"):
        try:
            taken.setdefault(path.stem, []).append(float(json.loads(path.read_text())["seconds"]))
        except (OSError, ValueError, KeyError):
            continue
    means = {a: sum(v) / len(v) for a, v in taken.items() if v}
    order = sorted({t.assignment for t in tasks}, reverse=True)
    rank = {a: (-means.get(a, 0.0), i) for i, a in enumerate(order)}
    return sorted(tasks, key=lambda t: rank[t.assignment])


def run_local(
    tasks: list[Task],
    *,
    workers: int,
    editions: Mapping[str, tuple[list[str], str | None]],
    limits: Limits,
    feedback_root: str,
    on_outcome: OnOutcome,
    autograded_root: str | None = None,
    while_grading: Callable[[], None] = lambda: None,
) -> int:
    """Grade ``tasks`` in ``workers`` processes started here; the number of workers used.

    ``editions``: per language, the assignments and the root of a template course that each
    worker copies (:func:`.workers.init_worker`).
    """
    # Not a plain fork of this process: it may run threads (a Dask client's, a progress
    # bar's) whose locks a fork would copy held. A fork server is a new, single-threaded
    # process that has imported the grading code once; each worker is a fork of it.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload(["autograder.grading.workers"])
    attempts: dict[Task, int] = {}
    pending = list(tasks)
    started = False
    while pending:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=init_worker,
            initargs=(editions, limits.to_json()),
        ) as pool:  # fmt: skip
            futures = {
                pool.submit(grade_task, t, feedback_root, autograded_root): t for t in pending
            }
            pending = []
            if not started:  # while the workers grade
                while_grading()
                started = True
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for future in done:
                    task = futures[future]
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        attempts[task] = attempts.get(task, 0) + 1
                        if attempts[task] >= 2:
                            outcome = Outcome(False, reason="the grading worker died twice")
                        else:
                            pending.append(task)
                            continue
                    on_outcome(task, outcome)
    return workers


def run_dask(
    tasks: list[Task],
    *,
    address: str,
    workers: int,
    editions: dict[str, list[str]],
    limits: Limits,
    on_outcome: OnOutcome,
    while_grading: Callable[[], None] = lambda: None,
) -> int:
    """Grade ``tasks`` on the Dask cluster at ``address`` (``local``: a new LocalCluster).

    ``editions``: per language, the assignments a worker's course of it is built for.

    Returns the number of workers the cluster had.
    """
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    cluster = None
    if address == "local":
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,  # a worker grades one submission at a time
            processes=True,
            memory_limit=0,  # each kernel has its own limit (RLIMIT_AS)
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        client = Client(address)
    try:
        count = max(1, len(client.scheduler_info().get("workers", {})))
        todo = list(reversed(tasks))
        futures = {}

        def submit() -> None:
            task = todo.pop()
            key = f"grade-{task.assignment}-{task.student}-{task.digest[:12]}"
            shipment = ship(task, editions[task.language], limits)
            future = client.submit(grade_shipment, shipment, key=key)
            futures[future] = task
            running.add(future)

        running = as_completed()
        for _ in range(min(len(todo), count * IN_FLIGHT_PER_WORKER)):
            submit()
        while_grading()
        for future in running:
            task = futures.pop(future)
            try:
                outcome = future.result()
            except KilledWorker as error:
                outcome = Outcome(False, reason=f"grading workers died on it: {error}"[-2000:])
            except Exception as error:  # the cluster failed it: record it, go on
                outcome = Outcome(False, reason=f"{type(error).__name__}: {error}"[-2000:])
            future.release()
            on_outcome(task, outcome)
            if todo:
                submit()
        return count
    finally:
        try:  # the workers' private courses and kernel templates, before they are stopped
            client.run(close_graders)
        except Exception:  # a worker that is gone has nothing left to close
            pass
        client.close()
        if cluster is not None:
            cluster.close()
