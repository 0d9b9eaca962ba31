"""Start grading kernels by forking a warm template, through jupyter_client's provisioners.

:class:`KernelTemplate` is a grading process's handle on its template
(:mod:`.kernel_template`): one per worker, started once, asked for one kernel per
notebook. :class:`TemplateProvisioner` is the jupyter_client kernel provisioner that asks
it: the kernel manager still writes the connection file and builds the sandbox launcher's
command line (:class:`.execute.SandboxKernelManager`), and the provisioner hands exactly
those arguments to the template instead of to ``Popen``. When there is no template, or it
refuses (it died, it runs threads, the kernel is not this Python's ipykernel), the
provisioner starts the kernel the ordinary way, through the same launcher.

A forked kernel is not the provisioner's child, so it is known by its pid and the start
time the kernel reports for it (``/proc``): a signal is only sent while both still match,
never to a process that reused the pid.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

from .sandbox import Limits, process_alive

LAUNCHER = ["-m", "autograder.grading.sandbox"]


class TemplateError(RuntimeError):
    """The template could not give a kernel (the caller starts one the ordinary way)."""


class KernelTemplate:
    """A template process that forks kernels, owned by the process that started it.

    :meth:`acquire` shares one template among every grader of a process that needs the
    same thread count (a test suite may open a grader per topic): a template is a few
    hundred megabytes, and any of its kernels may grade any notebook.
    """

    _shared: dict[tuple[int, int], tuple[KernelTemplate, int]] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def acquire(cls, limits: Limits) -> KernelTemplate:
        """This process's template for ``limits.threads``, started if need be."""
        key = (os.getpid(), limits.threads)
        with cls._shared_lock:
            template, users = cls._shared.get(key, (None, 0))
            if template is None or template.process.poll() is not None:
                template, users = cls(limits), 0
            cls._shared[key] = (template, users + 1)
            return template

    def release(self) -> None:
        """One grader less; the last one ends the template."""
        with self._shared_lock:
            for key, (template, users) in list(self._shared.items()):
                if template is self:
                    if users > 1:
                        self._shared[key] = (template, users - 1)
                        return
                    del self._shared[key]
        self.close()

    def __init__(self, limits: Limits | None = None, *, start_timeout: float = 300):
        limits = limits or Limits()
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(limits.threads)
        self.owner = os.getpid()
        self.start_timeout = start_timeout
        self.info: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._buffer = b""
        # The template's stderr is every forked kernel's: kernels log there ("KeyboardInterrupt
        # caught in kernel" when a cell is stopped), which must not break into grade-class's
        # progress bar or grade-one's report. A failed start quotes the end of this log.
        log_fd, log_name = tempfile.mkstemp(prefix="kernel-template-", suffix=".log")
        self.log = Path(log_name)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "autograder.grading.kernel_template"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_fd,
                env=env,
                close_fds=True,
            )
        finally:
            os.close(log_fd)

    @property
    def usable(self) -> bool:
        """Whether this process may ask the template (not a fork of its owner; still running)."""
        return os.getpid() == self.owner and self.process.poll() is None

    def _read_line(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TemplateError(f"the kernel template did not answer within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise TemplateError(f"the kernel template exited: {self.log_tail()}")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def wait_ready(self) -> dict[str, Any]:
        """The template's greeting (what it imported), once its imports are done."""
        with self._lock:
            return self._ready()

    def _ready(self) -> dict[str, Any]:
        if self.info is None:
            if not self.usable:
                raise TemplateError("the kernel template is not running")
            self.info = self._read_line(self.start_timeout)
        return self.info

    def fork(self, argv: list[str], cwd: str, env: dict[str, str]) -> dict[str, Any]:
        """A new kernel for the sandbox launcher's ``argv``: its pid and start time.

        A kernel started ahead (the template's spare) comes with its ``connection`` info
        and its ``folder`` (which holds its sockets).
        """
        with self._lock:
            self._ready()
            assert self.process.stdin is not None
            request = {"argv": argv, "cwd": cwd, "env": env}
            try:
                self.process.stdin.write(json.dumps(request).encode() + b"\n")
                self.process.stdin.flush()
            except OSError as error:
                raise TemplateError(f"the kernel template is gone: {error}") from None
            answer = self._read_line(120)
        if "error" in answer:
            raise TemplateError(answer["error"])
        return answer

    def log_tail(self, size: int = 2000) -> str:
        """The end of what the template and its kernels wrote to stderr."""
        try:
            return self.log.read_bytes()[-size:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def close(self) -> None:
        """End the template (its kernels are ended by their own managers)."""
        if os.getpid() != self.owner:
            return
        if self.process.poll() is not None:
            self.log.unlink(missing_ok=True)
            return
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the template ends at the end of its input
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.log.unlink(missing_ok=True)


class TemplateProvisioner(LocalProvisioner):
    """Launch the kernel by forking :attr:`template`; the ordinary way when it cannot."""

    template: KernelTemplate | None = None
    forked = False
    started: int | None = None
    folder: str | None = None
    """A kernel started ahead keeps its sockets here; removed at clean-up."""
    start_seconds: float | None = None
    """How long a kernel started ahead took to start (off the notebook's path)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        template = self.template
        if template is not None and template.usable and cmd[1:3] == LAUNCHER:
            env = kwargs.get("env") or dict(os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            try:
                answer = await asyncio.to_thread(template.fork, cmd[3:], cwd, env)
            except TemplateError as error:
                self.log.warning("starting the kernel without the template: %s", error)
            else:
                self.pid = self.pgid = int(answer["pid"])
                self.started = answer.get("started")
                self.forked = True
                self.cwd = cwd
                if "connection" in answer:  # a spare: its own sockets, adopted by the manager
                    info: dict[str, Any] = dict(answer["connection"])
                    info["key"] = info["key"].encode()
                    self.connection_info = info  # type: ignore[assignment]
                    self.folder = answer.get("folder")
                    self.start_seconds = answer.get("start_seconds")
                return self.connection_info
        return await super().launch_kernel(cmd, **kwargs)

    def _alive(self) -> bool:
        return self.pid is not None and process_alive(self.pid, self.started)

    @property
    def has_process(self) -> bool:
        if self.forked:
            return self.pid is not None
        return super().has_process

    async def poll(self) -> int | None:
        if self.forked:
            return None if self._alive() else 0
        return await super().poll()

    async def wait(self) -> int | None:
        if not self.forked:
            return await super().wait()
        while self._alive():
            await asyncio.sleep(0.01)
        self.pid = None
        return 0

    async def send_signal(self, signum: int) -> None:
        if not self.forked:
            return await super().send_signal(signum)
        if self._alive():
            assert self.pid is not None
            try:
                os.killpg(self.pid, signum)  # the kernel leads its own session
            except ProcessLookupError:
                pass

    async def kill(self, restart: bool = False) -> None:
        if not self.forked:
            return await super().kill(restart)
        await self.send_signal(signal.SIGKILL)

    async def terminate(self, restart: bool = False) -> None:
        if not self.forked:
            return await super().terminate(restart)
        await self.send_signal(signal.SIGTERM)

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart)
        if self.folder and not restart:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
