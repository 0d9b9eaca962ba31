"""A warm template for grading kernels: imported once per worker, forked once per notebook.

A fresh kernel pays seconds to start Python, ipykernel and torch before a notebook's first
cell runs; a class pays that for every notebook of every student. The template is a
process (``python -m autograder.grading.kernel_template``) that imports what the course's
kernels import (torch, numpy, matplotlib, IPython, ipykernel, the checking library) and
then only forks: each notebook gets a new child, which makes itself the kernel. No
notebook code ever runs in the template, so every kernel starts from the same untouched
state, and no kernel sees what another one did.

A child does what the sandbox launcher (:mod:`.sandbox`) does before it ``exec``\\ s a
kernel, then runs ipykernel in place of the ``exec``:

* :func:`.sandbox.apply_before_start`: its own session, ``RLIMIT_AS``, a new network
  namespace, before ipykernel starts a thread (a fork has one thread, so ``unshare``
  works as in a new process); then :func:`.sandbox.apply_processes`: the pids cgroup;
* what a fork inherits is put right: no file descriptor of the template but the standard
  streams (stdin from ``/dev/null``, stdout to stderr: never the request pipe), signal
  dispositions, environment, working folder, ``sys.argv`` and ``sys.path`` as ``python -m
  ipykernel_launcher`` would have them, and fresh seeds for Python's, numpy's and torch's
  global random generators (a fork copies them: two kernels would draw the same numbers).

**The spare.** After each kernel it hands out, the template forks the next one at once
and lets it start ipykernel (sockets, threads, the shell) with the same command line,
environment and limits, then wait. The next request that asks for exactly those is
answered by this spare: it joins the request's pids cgroup, moves to the notebook's
folder and runs; its sockets are the ones it bound (the grader adopts its connection
file). A request that differs gets a child of its own, as above. The spare's start-up
thus runs while the grader does other work; it is no less a new kernel.

The template refuses to fork while it runs more than one thread (a fork would copy locks
that other threads hold); the grader then starts kernels the ordinary way. torch's
intra-op pool and OpenBLAS's threads are never started here: the thread count for
kernels is set before numpy and torch are imported.

Protocol: one JSON object per line. The template announces ``{"ready": ...}`` once its
imports are done; each ``{"argv": [LIMITS, CGROUP, "--", *KERNEL_CMD], "cwd": ..., "env":
...}`` (the sandbox launcher's own arguments) is answered, once the kernel's sockets are
bound, with ``{"pid": N, "started": TICKS}`` (plus ``"connection"`` and ``"folder"`` from a
spare) or ``{"error": "..."}``. The template ends at the end of its input.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

from . import sandbox

PRELOAD = (
    "numpy",
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.optim",
    "torchvision",
    "matplotlib",
    "matplotlib.pyplot",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # debugpy: a third of a kernel's start-up
    "ipykernel.comm",
    "IPython.core.debugger",
    "pdb",
    "sqlite3",
    "autograder.checking",
    "autograder.grading.kernel_guard",
)
"""What a kernel of this course imports (the checking library's submodules are added)."""
READY_TIMEOUT = 60.0
GRADER = os.getppid()
"""The grading process that started this template (jupyter_client tells its kernels)."""
IMPORTED_ENV: dict[str, str] = {}
"""What the template's imports set in the environment (debugpy's ``PYDEVD_USE_FRAME_EVAL``):
a kernel that imported them itself would have the same."""


def threads() -> int:
    """Threads of this process, as the kernel sees them (``/proc/self/task``)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def preload() -> list[str]:
    """Import what every kernel imports; return the names that imported."""
    # ipykernel sets this in each kernel before matplotlib reads it; matplotlib reads it
    # when imported, so it is set the same way here (pyplot picks its backend lazily).
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    loaded = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:  # a missing optional library: the kernel imports it itself
            continue
    import pkgutil

    import autograder.checking

    for info in pkgutil.walk_packages(autograder.checking.__path__, "autograder.checking."):
        importlib.import_module(info.name)
    return loaded


# -- in the child ---------------------------------------------------------------------
def _reseed() -> None:
    """New seeds for the global generators a fork copied, from the OS as a new process has."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        import numpy

        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))
    if "torch" in sys.modules:
        import torch

        torch.random.default_generator.seed()


def _clean_process(keep: tuple[int, ...]) -> None:
    """Right after the fork: a session of its own, default signals, only its own files."""
    os.setsid()  # first, so that the grader can kill whatever this becomes
    gc.enable()  # the template's objects stay frozen: collections leave their pages alone
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:  # the listing's own descriptor, already closed
                pass


def _kernel_app(kernel_args: list[str]):
    """ipykernel's application, initialized as ``python -m ipykernel_launcher ARGS`` would."""
    import ipykernel_launcher
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [ipykernel_launcher.__file__, *kernel_args]
    app = IPKernelApp.instance()
    # ipykernel read JPY_PARENT_PID when the template imported it: watch this parent,
    # which ends when the grader ends
    app.parent_handle = os.getppid()
    app.initialize(kernel_args)
    return app


def _environment(env: dict[str, str]) -> None:
    """The request's environment, as jupyter_client's launcher and the imports complete it."""
    os.environ.clear()
    os.environ.update(env)
    os.environ.setdefault("JPY_PARENT_PID", str(GRADER))
    os.environ.update(IMPORTED_ENV)


def _become_kernel(request: dict, ready: int) -> None:
    """A kernel for ``request``, started now: the sandbox, then ipykernel."""
    limits_json, cgroup, _dash, *kernel_cmd = request["argv"]
    _clean_process(keep=(ready,))
    _environment(request["env"])
    os.chdir(request["cwd"])
    limits = sandbox.Limits.from_json(limits_json)
    report = sandbox.apply_before_start(limits)
    report.update(sandbox.apply_processes(limits, None if cgroup == "-" else cgroup))
    report["kernel"] = f"new, forked from a warm template (pid {os.getppid()})"
    os.environ["AUTOGRADER_SANDBOX"] = json.dumps(report)
    _reseed()
    app = _kernel_app(kernel_cmd[3:])
    os.write(ready, b"ok")
    os.close(ready)
    app.start()


def _become_spare(request: dict, spare: Spare, ready: int, go: int) -> None:
    """A kernel started ahead, for the next request like ``request``: started, then waits."""
    begun = time.perf_counter()
    limits_json, _cgroup, _dash, *kernel_cmd = request["argv"]
    _clean_process(keep=(ready, go))
    _environment(request["env"])
    os.chdir(spare.folder)
    limits = sandbox.Limits.from_json(limits_json)
    report = sandbox.apply_before_start(limits)
    _reseed()
    app = _kernel_app(spare.kernel_args())
    start_seconds = time.perf_counter() - begun
    os.write(ready, b"ok")
    assignment = _read_all(go)  # the template closes its end after writing
    if not assignment:
        os._exit(0)  # not needed after all
    order = json.loads(assignment)
    report.update(sandbox.apply_processes(limits, order["cgroup"]))
    report["kernel"] = f"new, forked from a warm template (pid {os.getppid()}), started ahead"
    os.environ["AUTOGRADER_SANDBOX"] = json.dumps(report)
    os.chdir(order["cwd"])
    if app.shell is not None:
        app.shell.starting_dir = order["cwd"]
    os.write(ready, b"go" + json.dumps({"start_seconds": start_seconds}).encode())
    os.close(ready)
    app.start()


def _read_all(fd: int) -> bytes:
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    os.close(fd)
    return data


def _child(run, *args) -> None:
    """Never returns: the kernel's life, then ``_exit`` (never back into the template's loop)."""
    ready = args[-1] if run is _become_kernel else args[-2]
    code = 1
    try:
        run(*args)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        try:
            os.write(ready, traceback.format_exc()[-2000:].encode())
        except OSError:
            pass
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


# -- in the template --------------------------------------------------------------------
def _wait_for(fd: int, expected: bytes | None, timeout: float) -> bytes:
    """Read ``fd`` until it has said ``expected`` (``None``: until closed), or ``timeout``."""
    answer = b""
    deadline = time.monotonic() + timeout
    while answer != expected and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        answer += chunk
    return answer


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def refusal(request: dict) -> str | None:
    """Why this request cannot be forked here (``None``: it can)."""
    kernel_cmd = request["argv"][3:]
    if kernel_cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return f"not an ipykernel command: {kernel_cmd[:3]}"
    if os.path.realpath(kernel_cmd[0]) != os.path.realpath(sys.executable):
        return f"the kernel's Python {kernel_cmd[0]} is not the template's"
    count = threads()
    if count != 1:
        return f"the template runs {count} threads; a fork would be unsafe"
    return None


def fork_kernel(request: dict) -> dict:
    """Fork a kernel for ``request``; answer once its sockets are bound (or it failed)."""
    why = refusal(request)
    if why:
        return {"error": why}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(_become_kernel, request, write)
    os.close(write)
    try:
        answer = _wait_for(read, b"ok", READY_TIMEOUT)
    finally:
        os.close(read)
    if answer == b"ok":
        return {"pid": pid, "started": sandbox.process_start(pid)}
    _kill(pid)
    return {"error": answer.decode(errors="replace") or "the kernel did not start in time"}


def _without_connection_file(kernel_args: list[str]) -> list[str]:
    args, skip = [], False
    for arg in kernel_args:
        if skip:
            skip = False
        elif arg == "-f":
            skip = True
        elif not arg.startswith("--f=") and not arg.startswith("-f="):
            args.append(arg)
    return args


@dataclass
class Spare:
    """A kernel started ahead of its request, in its own folder with its own sockets."""

    limits: str
    args: list[str]
    env: dict[str, str]
    folder: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="ag-spare-"))
    connection: dict = field(default_factory=dict)
    pid: int = 0
    ready: int = -1
    go: int = -1

    def kernel_args(self) -> list[str]:
        return ["-f", os.path.join(self.folder, "kernel.json"), *self.args]

    @classmethod
    def start(cls, request: dict) -> Spare | None:
        if refusal(request):
            return None
        spare = cls(
            request["argv"][0], _without_connection_file(request["argv"][6:]), request["env"]
        )
        from jupyter_client.connect import write_connection_file

        _, info = write_connection_file(
            os.path.join(spare.folder, "kernel.json"),
            transport="ipc",
            ip=os.path.join(spare.folder, "k"),
            key=secrets.token_hex(32).encode(),
        )
        spare.connection = {k: v.decode() if isinstance(v, bytes) else v for k, v in info.items()}
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            os.close(go_w)
            _child(_become_spare, request, spare, ready_w, go_r)
        os.close(ready_w)
        os.close(go_r)
        spare.pid, spare.ready, spare.go = pid, ready_r, go_w
        return spare

    def fits(self, request: dict) -> bool:
        argv = request["argv"]
        return (
            argv[0] == self.limits
            and _without_connection_file(argv[6:]) == self.args
            and request["env"] == self.env
            and refusal(request) is None
        )

    def assign(self, request: dict) -> dict | None:
        """Hand this kernel to ``request``; ``None`` when it cannot (then it is gone)."""
        try:
            if _wait_for(self.ready, b"ok", READY_TIMEOUT) != b"ok":
                return None
            cgroup = request["argv"][1]
            order = {"cwd": request["cwd"], "cgroup": None if cgroup == "-" else cgroup}
            os.write(self.go, json.dumps(order).encode())
            os.close(self.go)
            self.go = -1
            said = _wait_for(self.ready, None, READY_TIMEOUT)
            if not said.startswith(b"go"):
                return None
            started = sandbox.process_start(self.pid)
            answer: dict[str, object] = {"pid": self.pid, "started": started}
            answer.update(connection=self.connection, folder=self.folder)
            answer.update(json.loads(said[2:] or b"{}"))  # how long it took to start, ahead
            self.pid = 0  # the grader's now
            return answer
        finally:
            self.close()

    def close(self) -> None:
        """Close the pipes; a spare nobody took is killed and its folder removed."""
        for fd in (self.ready, self.go):
            if fd >= 0:
                os.close(fd)
        self.ready = self.go = -1
        if self.pid:
            _kill(self.pid)
            self.pid = 0
            shutil.rmtree(self.folder, ignore_errors=True)


def main() -> None:
    # ``python -m`` put the grader's folder first on sys.path; ipykernel_launcher removes it
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.realpath(os.getcwd()):
        del sys.path[0]
    # children are reaped by the kernel; each child puts the default back for its own
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when this ends
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    start = time.perf_counter()
    gc.disable()  # no collection leaves holes in pages the kernels will share
    before = dict(os.environ)
    loaded = preload()
    IMPORTED_ENV.update({k: v for k, v in os.environ.items() if before.get(k) != v})
    IMPORTED_ENV.pop("MPLBACKEND", None)  # ipykernel sets it in each kernel, unless already set
    # Every object so far is the template's, shared with the kernels page by page: frozen,
    # a kernel's collections skip them instead of writing to (and so copying) every page.
    gc.freeze()
    hello = {"ready": True, "preloaded": loaded, "threads": threads()}
    hello["seconds"] = round(time.perf_counter() - start, 3)
    answers.write(json.dumps(hello).encode() + b"\n")
    answers.flush()
    spare: Spare | None = None
    try:
        for line in requests:
            if not line.strip():
                continue
            answer = None
            try:
                request = json.loads(line)
                if spare is not None and spare.fits(request):
                    answer = spare.assign(request)
                if spare is not None:
                    spare.close()
                    spare = None
                if answer is None:
                    answer = fork_kernel(request)
            except Exception as error:  # a malformed request: say so, keep serving
                answer = {"error": f"{type(error).__name__}: {error}"}
            answers.write(json.dumps(answer).encode() + b"\n")
            answers.flush()
            if "pid" in answer:
                spare = Spare.start(request)
    finally:
        if spare is not None:
            spare.close()
    answers.flush()
    os._exit(0)  # nothing to tear down: the interpreter's own shutdown would take a second


if __name__ == "__main__":
    main()
