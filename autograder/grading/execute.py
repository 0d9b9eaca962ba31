"""nbgrader's ``Execute`` preprocessor, hardened for hostile notebooks.

It replaces ``Execute`` in ``Autograde.autograde_preprocessors`` (see
:func:`autograder.nbgrader_setup.grading_config`). For each notebook it:

* starts the kernel under :mod:`.sandbox` limits (memory, processes, network)
  and snapshots the clean kernel with :func:`.kernel_guard.install`;
* before every tests cell, restores what notebook code replaced
  (:func:`.kernel_guard.before_test`); the names restored become a note in the report;
* runs each tests cell with a random token appended (:func:`.kernel_guard.proof`) and
  counts the cell as passed only when the execute reply's status is ``ok``, no error was
  shown and the token came back. Anything else gets an error output, which nbgrader
  scores 0. Values displayed by a tests cell are removed (nbgrader would read a number
  shown there as partial credit, and tests cells show nothing of their own);
* limits each cell's time, the notebook's time and each cell's output. A kernel that
  dies (``os._exit``, a signal) or that an interrupt cannot stop is killed, and every
  later tests cell scores 0 with the reason; the points earned before it are kept;
* starts the kernel in the notebook's language (``metadata.course.language``, which the
  grader writes), so that the checks' messages come out in it.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_hook, run_sync
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Unicode

from ..checking import i18n
from .provisioner import KernelTemplate, TemplateProvisioner
from .sandbox import Limits, kill_session, pids_cgroup

MARK = "autograder-proof:"
GUARD = "__import__('autograder.grading.kernel_guard').grading.kernel_guard"


class GuardFailure(Exception):
    """The grader could not run its own code in the kernel."""


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel under the sandbox and cleans up after it.

    With a :attr:`kernel_template`, the kernel is forked from it (:mod:`.provisioner`);
    without, the sandbox launcher starts it as a new process. Both apply the same limits.
    """

    limits_json = Limits().to_json()
    language = i18n.ENGLISH
    """The language of the notebook the kernel runs: its checks speak it."""
    kernel_template: KernelTemplate | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = Limits.from_json(self.limits_json)
        self._ipc_dir = None
        if not limits.network:
            # Unix sockets at an absolute path: the kernel runs in another folder and,
            # without a network, cannot use TCP on localhost.
            self.transport = "ipc"
            self._ipc_dir = tempfile.mkdtemp(prefix="ag-ipc-")
            self.ip = os.path.join(self._ipc_dir, "k")
        self._cgroup: Path | None = None
        self._kernel_pid: int | None = None

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self._cgroup is None:
            self._cgroup = pids_cgroup(f"autograder-{os.getpid()}-{id(self):x}")
        launcher = [sys.executable, "-m", "autograder.grading.sandbox", self.limits_json]
        launcher += [str(self._cgroup) if self._cgroup else "-", "--"]
        return launcher + cmd

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = TemplateProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
            self.provisioner.template = self.kernel_template
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kw["env"] = {**(kw.get("env") or os.environ), i18n.ENV: self.language}
        await super()._async_launch_kernel(kernel_cmd, **kw)
        self._kernel_pid = getattr(getattr(self, "provisioner", None), "pid", None)

    # jupyter_client types this method as synchronous on the base class
    async def shutdown_kernel(  # type: ignore[override]
        self, now: bool = False, restart: bool = False
    ) -> None:
        try:
            if now:  # no interrupt first (jupyter_client's way): nothing in it is kept
                self.cleanup_sandbox()
            await super().shutdown_kernel(now=now, restart=restart)
        finally:
            self.cleanup_sandbox()

    def cleanup_sandbox(self) -> None:
        """Kill what is left of the kernel's processes; remove its cgroup and sockets."""
        kill_session(self._kernel_pid, self._cgroup)
        self._kernel_pid = None  # once killed, the pid may be another process's
        if self._ipc_dir:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)


def _literal(result: dict):
    """The value of a user expression the kernel evaluated (a Python literal), or None."""
    try:
        return ast.literal_eval(result["data"]["text/plain"])
    except (KeyError, ValueError, SyntaxError):
        return None


def _epoch(stamp) -> float:
    """A Jupyter message's ISO date (or datetime) as seconds since the epoch."""
    if isinstance(stamp, str):
        from datetime import datetime

        stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return stamp.timestamp()


def error_output(ename: str, evalue: str) -> dict:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):
    limits_json = Unicode(Limits().to_json(), help="autograder.grading.sandbox.Limits as JSON").tag(
        config=True
    )

    kernel_template: KernelTemplate | None = None
    """Fork kernels from this template (set by the grader that owns it), else start them."""
    _expressions: dict[str, str] | None = None
    """What the next execute request asks the kernel to evaluate after the cell."""
    _prepared: dict[int, object]
    """The guard's steps already run for a later cell (by index), with their result."""

    def preprocess(self, nb, resources=None, km=None):
        self.limits = Limits.from_json(self.limits_json)
        course = nb.metadata.get("course", {})
        language = (isinstance(course, dict) and i18n.known(course.get("language"))) or "en"
        self.kernel_manager_class = type(
            "CourseKernelManager",
            (SandboxKernelManager,),
            {
                "limits_json": self.limits_json,
                "language": language,
                "kernel_template": self.kernel_template,
            },
        )
        # nothing in a graded kernel is worth a graceful shutdown: kill its session at once
        self.shutdown_kernel = "immediate"
        self.timeout = self.limits.cell_timeout
        self.iopub_timeout = 5
        self._deadline = time.monotonic() + self.limits.notebook_timeout
        self._installed = False
        self._stopped: str | None = None
        self._reply = None
        self._out_bytes = 0
        self._stderr_kept = False
        self._truncated = False
        resources = resources or {}
        resources.setdefault("autograder", {"restored": {}, "stopped": None})
        self._notes = resources["autograder"]
        self._timing = self._notes.setdefault("timing", {})
        self._timing["start"] = time.time()
        self._sandbox_km = None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._sandbox_km is not None:
                self._sandbox_km.cleanup_sandbox()
            self._timing["end"] = time.time()
            meta = resources.get("metadata", {})
            if meta.get("path") and meta.get("name"):
                notes = Path(meta["path"]) / f".{meta['name']}.autograder.json"
                notes.write_text(json.dumps(self._notes, default=str))

    async def async_start_new_kernel_client(self):
        """nbclient's, with a readiness check that does not sleep.

        jupyter_client's ``wait_for_ready`` ends by reading IOPub until it has been quiet
        for 0.2 s: most of a warm kernel's start. Here the kernel is ready once it answered
        ``kernel_info`` and IOPub delivered a message (its welcome to this subscriber, or
        a status); what is already queued is drained without waiting. Later messages are
        matched to their request, so a stray one is never taken for a cell's output.
        """
        assert self.km is not None
        try:
            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels())
            await self._wait_until_ready(self.startup_timeout or 60)
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def _wait_until_ready(self, timeout: float) -> None:
        kc = self.kc
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg_id = kc.kernel_info()
            try:
                reply = await ensure_async(kc.shell_channel.get_msg(timeout=1))
                while reply["parent_header"].get("msg_id") != msg_id:
                    reply = await ensure_async(kc.shell_channel.get_msg(timeout=1))
                await ensure_async(kc.iopub_channel.get_msg(timeout=1))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            while True:
                try:
                    await ensure_async(kc.iopub_channel.get_msg(timeout=0))
                except Empty:
                    return
        raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    # -- running the grader's own code in the kernel -------------------------------
    def _guard(self, call: str, timeout: float = 30):
        start = time.perf_counter()
        try:
            return self._run_guard(call, timeout)
        finally:
            spent = self._timing.setdefault("guard_seconds", 0.0) + time.perf_counter() - start
            self._timing["guard_seconds"] = spent
            self._timing["guard_calls"] = self._timing.get("guard_calls", 0) + 1

    def _run_guard(self, call: str, timeout: float):
        self._expressions = None  # this request carries only the grader's call
        msg_id = self.kc.execute(
            "pass",
            store_history=False,
            allow_stdin=False,
            user_expressions={"r": f"{GUARD}.{call}"},
        )
        deadline = time.monotonic() + timeout
        get = run_sync(self.kc.shell_channel.get_msg)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise GuardFailure(f"no reply to the grader's {call} within {timeout:g} s")
            try:
                msg = get(timeout=min(remaining, 1.0))
            except Empty:
                if not self._alive():
                    raise DeadKernelError("Kernel died") from None
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            result = content.get("user_expressions", {}).get("r", {})
            if content.get("status") != "ok" or result.get("status") != "ok":
                detail = result.get("evalue") or content.get("evalue") or "no result"
                raise GuardFailure(f"the grader's {call} failed in the kernel: {detail}")
            return _literal(result)

    def _alive(self) -> bool:
        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:
            return False

    def _kill(self) -> None:
        provisioner = getattr(self.km, "provisioner", None)
        kill_session(getattr(provisioner, "pid", None), None)

    # -- cells ---------------------------------------------------------------------
    def on_cell_executed(self, **kwargs):
        self._reply = kwargs.get("execute_reply")
        if "first_cell" not in self._timing and self._reply:
            started = self._reply.get("metadata", {}).get("started")
            if started:  # when the kernel began to run the notebook's first cell
                self._timing["first_cell"] = _epoch(started)
        return super().on_cell_executed(**kwargs)

    def output(self, outs, msg, display_id, cell_index):
        msg_type = msg["msg_type"]
        content = msg.get("content", {})
        text = content.get("text", "") if msg_type == "stream" else ""
        size = len(text) + len(str(content.get("data", ""))) if msg_type != "error" else 0
        self._out_bytes += size
        if msg_type == "error" or MARK in text or self._out_bytes <= self.limits.output_bytes:
            if msg_type == "stream" and content.get("name") == "stderr":
                self._stderr_kept = True
            return super().output(outs, msg, display_id, cell_index)
        if msg_type == "stream" and content.get("name") == "stderr" and not self._stderr_kept:
            self._stderr_kept = True
            msg = {**msg, "content": {**content, "text": text[:1000]}}
            return super().output(outs, msg, display_id, cell_index)
        if not self._truncated:
            self._truncated = True
            notice = new_output(
                "stream",
                name="stdout",
                text=f"\n[output cut by the grader after {self.limits.output_bytes} characters]\n",
            )
            outs.append(notice)
        return None

    @staticmethod
    def _roles(cell) -> tuple[str | None, bool]:
        """``(before, after)``: the guard's step before the cell, whether to record it after.

        ``before`` is ``"test"`` for tests cells, ``"locked"`` for read-only cells, else None;
        ``after``: the names a read-only or tests cell binds are recorded as the course's.
        """
        if cell.cell_type != "code" or not cell.source.strip():
            return None, False
        locked = utils.is_locked(cell) and not utils.is_solution(cell)
        if utils.is_grade(cell):
            return "test", locked
        return ("locked" if locked else None), locked

    def _next_code(self, index: int) -> tuple[int, str | None]:
        for later in range(index + 1, len(self.nb.cells)):
            cell = self.nb.cells[later]
            if cell.cell_type == "code" and cell.source.strip():
                return later, self._roles(cell)[0]
        return -1, None

    def _execute_with_step(self, cell, index: int, after: bool):
        """Run the cell; the guard's steps up to the next cell ride on the same request.

        The kernel evaluates ``user_expressions`` once the cell's code has run, so the
        record of this cell's names and the restore before the next cell cost no extra
        round trip. When the cell fails, the kernel skips them, and they run on their own.
        """
        following, before = self._next_code(index)
        step = f"{GUARD}.between({after!r}, {before!r})" if (after or before) else None
        self._expressions = {"step": step} if step else None
        try:
            cell = self.execute_cell(cell, index, store_history=True)
        finally:
            self._expressions = None
        content = (self._reply or {}).get("content", {})
        result = content.get("user_expressions", {}).get("step", {})
        if step and content.get("status") == "ok" and result.get("status") == "ok":
            self._timing["guard_steps"] = self._timing.get("guard_steps", 0) + 1
            if before:
                self._prepared[following] = _literal(result)
        elif after:
            self._guard("after_locked()")
        return cell

    def _before(self, index: int, before: str):
        """The guard's step before cell ``index``, unless the previous cell's request ran it."""
        if index in self._prepared:
            return self._prepared.pop(index)
        return self._guard("before_test()" if before == "test" else "before_locked()")

    def preprocess_cell(self, cell, resources, index):
        if not self._installed:
            self._installed = True
            self._timing["kernel"] = time.time()
            ahead = getattr(getattr(self.km, "provisioner", None), "start_seconds", None)
            if ahead is not None:  # started ahead: its start-up was not on this notebook's path
                self._timing["started_ahead_seconds"] = ahead
            self._sandbox_km = self.km
            self._prepared = {}
            self._expressions = None
            execute = self.kc.execute

            def with_expressions(code, *args, **kwargs):
                if self._expressions is not None:
                    kwargs["user_expressions"] = self._expressions
                return execute(code, *args, **kwargs)

            self.kc.execute = with_expressions
            self._notes["sandbox"] = self._guard("install()", timeout=120)
            # the notebook's time limit counts its cells, not the kernel's start
            self._deadline = time.monotonic() + self.limits.notebook_timeout
        before, after = self._roles(cell)
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, self.resources
        grade = before == "test"
        if not self._stopped and time.monotonic() >= self._deadline:
            self._stop(f"the notebook ran past its time limit ({self.limits.notebook_timeout} s)")
        if self._stopped:
            cell.outputs = [error_output("NotRun", self._stopped)] if grade else []
            cell.execution_count = None
            return cell, self.resources
        self.timeout = max(1, int(min(self.limits.cell_timeout, self._deadline - time.monotonic())))
        self._out_bytes, self._stderr_kept, self._truncated = 0, False, False
        self._reply = None
        original = cell.source
        token = None
        try:
            if before:
                restored = self._before(index, before)
                if grade and restored:
                    self._notes["restored"][cell.metadata.nbgrader["grade_id"]] = restored
            if grade:
                token = MARK + secrets.token_hex(16)
                cell.source = f"{original}\n{GUARD}.proof({token!r})"
            cell = self._execute_with_step(cell, index, after)
        except GuardFailure as failure:
            if grade:
                cell.outputs = [error_output("GraderGuard", str(failure))]
                self._reply = None
                token = None
            if not self._alive():
                self._stop("the kernel died: " + str(failure))
        except CellTimeoutError:
            self._kill()
            reason = self._stop(
                f"a cell ran past its time limit ({self.limits.cell_timeout} s) and could not "
                "be interrupted; the kernel was stopped"
            )
            if grade:
                cell.outputs = [error_output("Timeout", reason)]
        except DeadKernelError:
            reason = self._stop(
                "the kernel died (the notebook's code ended the Python process, for example "
                "with os._exit, or it was killed)"
            )
            if grade:
                cell.outputs.append(error_output("KernelDied", reason))
        finally:
            cell.source = original
        if grade:
            self._judge(cell, token)
        return cell, self.resources

    def _stop(self, reason: str) -> str:
        self._stopped = reason
        self._notes["stopped"] = reason
        return reason

    def _judge(self, cell, token: str | None) -> None:
        """Keep only what the checks produced; fail the cell unless it provably ran through."""
        found = False
        kept = []
        for out in cell.outputs:
            if out.output_type in ("execute_result", "display_data", "update_display_data"):
                continue  # tests cells display nothing of their own
            if out.output_type == "stream" and MARK in out.text:
                if token and token in out.text:
                    found = True
                out.text = "\n".join(line for line in out.text.split("\n") if MARK not in line)
                if not out.text.strip():
                    continue
            kept.append(out)
        cell.outputs = kept
        errors = [o for o in kept if o.output_type == "error"]
        status = (self._reply or {}).get("content", {}).get("status")
        if errors:
            return
        if status != "ok":
            reason = "the kernel reported an error" if status else "no reply from the kernel"
            cell.outputs.append(error_output("NotPassed", f"{reason}; no points for this cell"))
        elif not found:
            cell.outputs.append(
                error_output(
                    "NotPassed",
                    "the tests did not run to their end (something in the notebook stopped "
                    "or replaced them); no points for this cell",
                )
            )
