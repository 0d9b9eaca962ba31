"""A warm template for grading kernels: imported once per worker, forked once per notebook.

A fresh kernel pays seconds to start Python, ipykernel and torch before a notebook's first
cell runs; a class pays that for every notebook of every student. The template is a
process (``python -m autograder.grading.kernel_template``) that imports what the course's
kernels import (torch, numpy, matplotlib, IPython, ipykernel, the checking library) and
then only forks: each notebook gets a new child, which makes itself the kernel. No
notebook code ever runs in the template, so every kernel starts from the same untouched
state, and no kernel sees what another one did.

The child does what the sandbox launcher (:mod:`.sandbox`) does before it ``exec``\\ s a
kernel, then runs ipykernel in place of the ``exec``:

* :func:`.sandbox.apply`: its own session, ``RLIMIT_AS``, the pids cgroup, a new network
  namespace. A fork has one thread, so ``unshare`` works as in a new process;
* what a fork inherits is put right: signal dispositions, standard streams (the
  template's request pipe is never visible to the kernel), environment, working folder,
  ``sys.argv`` and ``sys.path`` as ``python -m ipykernel_launcher`` would have them, and
  fresh seeds for Python's, numpy's and torch's global random generators (a fork copies
  them, so two kernels would otherwise draw the same numbers).

The template refuses to fork while it runs more than one thread (a fork would copy locks
that other threads hold); the grader then starts kernels the ordinary way. torch's
intra-op pool and OpenBLAS's threads are never started here: the thread count for
kernels is set before numpy and torch are imported.

Protocol: one JSON object per line. The template announces ``{"ready": ...}`` once its
imports are done; each ``{"argv": [LIMITS, CGROUP, "--", *KERNEL_CMD], "cwd": ..., "env":
...}`` (the sandbox launcher's own arguments) is answered, once the kernel's sockets are
bound, with ``{"pid": N, "started": TICKS}`` or ``{"error": "..."}``.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import sys
import time
import traceback

from . import sandbox

# Before numpy and torch are imported: their thread pools read these once.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
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


# -- the child: becoming a kernel ------------------------------------------------------
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


def _standard_streams() -> None:
    """stdin from /dev/null, stdout to the template's stderr: never the request pipe."""
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)


def _become_kernel(request: dict, ready: int) -> None:
    """In the forked child: apply the sandbox, then run ipykernel as the launcher would."""
    os.setsid()  # first, so that the grader can kill whatever this becomes
    limits_json, cgroup, _dash, *kernel_cmd = request["argv"]
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _standard_streams()
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    report = sandbox.apply(sandbox.Limits.from_json(limits_json), None if cgroup == "-" else cgroup)
    report["kernel"] = f"new, forked from a warm template (pid {os.getppid()})"
    os.environ["AUTOGRADER_SANDBOX"] = json.dumps(report)
    _reseed()
    import ipykernel_launcher

    sys.argv = [ipykernel_launcher.__file__, *kernel_cmd[3:]]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    # ipykernel read JPY_PARENT_PID when the template imported it: watch this parent,
    # which ends when the grader ends
    app.parent_handle = os.getppid()
    app.initialize(kernel_cmd[3:])
    os.write(ready, b"ok")
    os.close(ready)
    app.start()


def _child(request: dict, ready: int) -> None:
    """Never returns: the kernel's life, then ``_exit`` (never back into the template's loop)."""
    code = 1
    try:
        _become_kernel(request, ready)
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


def fork_kernel(request: dict) -> dict:
    """Fork a kernel for ``request``; answer once its sockets are bound (or it failed)."""
    kernel_cmd = request["argv"][3:]
    if kernel_cmd[1:3] != ["-m", "ipykernel_launcher"]:
        return {"error": f"not an ipykernel command: {kernel_cmd[:3]}"}
    if os.path.realpath(kernel_cmd[0]) != os.path.realpath(sys.executable):
        return {"error": f"the kernel's Python {kernel_cmd[0]} is not the template's"}
    count = threads()
    if count != 1:
        return {"error": f"the template runs {count} threads; a fork would be unsafe"}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        _child(request, write)
    os.close(write)
    answer = b""
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(read, 4096)
            if not chunk:
                break
            answer += chunk
            if answer == b"ok":
                break
    finally:
        os.close(read)
    if answer == b"ok":
        return {"pid": pid, "started": sandbox.process_start(pid)}
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    reason = answer.decode(errors="replace") or "the kernel did not start in time"
    return {"error": reason}


def main() -> None:
    # ``python -m`` put the grader's folder first on sys.path; ipykernel_launcher removes it
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.realpath(os.getcwd()):
        del sys.path[0]
    # children are reaped by the kernel; each child puts the default back for its own
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when this ends
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    start = time.perf_counter()
    loaded = preload()
    hello = {"ready": True, "preloaded": loaded, "threads": threads()}
    hello["seconds"] = round(time.perf_counter() - start, 3)
    answers.write(json.dumps(hello).encode() + b"\n")
    answers.flush()
    for line in requests:
        if not line.strip():
            continue
        try:
            answer = fork_kernel(json.loads(line))
        except Exception as error:  # a malformed request: say so, keep serving
            answer = {"error": f"{type(error).__name__}: {error}"}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()


if __name__ == "__main__":
    main()
