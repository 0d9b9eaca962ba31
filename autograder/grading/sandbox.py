"""Limits for the kernel that runs a student's notebook at grading time.

The kernel is started through this module (``python -m autograder.grading.sandbox LIMITS -- CMD``),
which applies the limits to its own process and then ``exec``s the real kernel, so the
kernel keeps the pid that the grader interrupts and kills:

* memory: ``RLIMIT_AS`` (address space; a memory bomb gets ``MemoryError``);
* processes: a ``pids`` cgroup when the grader may create one (it must, as root, since
  root ignores ``RLIMIT_NPROC``), else ``RLIMIT_NPROC`` (the user's process count plus a
  margin); a fork bomb gets ``BlockingIOError``;
* network: a new, empty network namespace (``unshare(CLONE_NEWNET)``, or inside a new user
  namespace when not root). The kernel then talks to the grader over Unix sockets
  (``transport = "ipc"``). Where the platform refuses both, the kernel keeps the network
  and the limits report says so;
* a session of its own, so the grader can kill every process the notebook started.

Time limits and the output cap are applied by the grader (:mod:`.execute`).
This module imports only the standard library, so starting a kernel through it is cheap.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
PIDS_V1 = Path("/sys/fs/cgroup/pids")


@dataclass
class Limits:
    """Everything a notebook may use while it is graded (configurable on the command line)."""

    cell_timeout: int = 60  # seconds for one cell
    notebook_timeout: int = 300  # seconds for a whole notebook
    memory_mb: int = 6144  # address space of the kernel (torch alone maps about 3.4 GB)
    max_procs: int = 64  # tasks (processes and threads) beyond those at start
    output_bytes: int = 1_000_000  # output (text and images) kept per cell; the rest is dropped
    network: bool = False  # False: no network for the kernel where the platform allows it
    threads: int = 1  # torch/OpenMP threads per kernel (parallel grading uses the cores)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Limits:
        return cls(**json.loads(text))


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _unshare_network() -> str:
    libc = _libc()
    if libc.unshare(CLONE_NEWNET) == 0:
        return "isolated (new network namespace)"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        try:
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
            Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
        except OSError:
            pass
        return "isolated (new user and network namespace)"
    return f"NOT isolated: unshare refused ({os.strerror(ctypes.get_errno())})"


def _user_tasks(uid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(list((entry / "task").iterdir()))
            except OSError:
                continue
    return count


def _sweep_stale_cgroups() -> None:
    """Remove empty cgroups left by graders that were killed (their pid is gone)."""
    for path in PIDS_V1.glob("autograder-*-*"):
        owner = path.name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                path.rmdir()  # fails, harmlessly, while a process is still inside
            except OSError:
                pass


def pids_cgroup(name: str) -> Path | None:
    """A fresh pids cgroup (v1) the grader may write to, or ``None``."""
    if not PIDS_V1.is_dir() or not os.access(PIDS_V1, os.W_OK):
        return None
    _sweep_stale_cgroups()
    path = PIDS_V1 / name
    try:
        path.mkdir(exist_ok=True)
        return path
    except OSError:
        return None


def _limit_processes(limits: Limits, cgroup: str | None) -> str:
    if cgroup:
        path = Path(cgroup)
        try:
            own = len(list(Path("/proc/self/task").iterdir()))
            (path / "pids.max").write_text(str(own + limits.max_procs + 16))
            (path / "cgroup.procs").write_text(str(os.getpid()))
            return f"pids cgroup, at most {limits.max_procs} more tasks"
        except OSError as error:
            cgroup_error = str(error)
    else:
        cgroup_error = "no writable pids cgroup"
    uid = os.getuid()
    cap = _user_tasks(uid) + limits.max_procs + 16
    resource.setrlimit(resource.RLIMIT_NPROC, (cap, cap))
    if uid == 0:
        return f"NOT enforced: running as root ignores RLIMIT_NPROC ({cgroup_error})"
    return f"RLIMIT_NPROC {cap} (user's tasks + {limits.max_procs})"


def _limit_memory(limits: Limits) -> str:
    memory = limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return f"RLIMIT_AS {limits.memory_mb} MiB"


def _steps(steps: dict) -> dict[str, str]:
    report = {}
    for name, step in steps.items():
        try:
            report[name] = step()
        except (OSError, ValueError, AttributeError) as error:  # a platform without it
            report[name] = f"NOT enforced: {type(error).__name__}: {error}"
    return report


def apply_before_start(limits: Limits) -> dict[str, str]:
    """The limits that must hold before the kernel starts any thread: session, memory, network.

    A new network namespace only takes the calling thread (and what it starts later) with
    it, and a new user namespace needs a single-threaded process: so these come first.
    """
    if os.getpid() != os.getsid(0):
        try:
            os.setsid()
        except OSError:
            pass
    report = _steps(
        {
            "memory": lambda: _limit_memory(limits),
            "network": lambda: "allowed" if limits.network else _unshare_network(),
        }
    )
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(limits.threads)
    return report


def apply_processes(limits: Limits, cgroup: str | None = None) -> dict[str, str]:
    """The process limit: this process joins ``cgroup`` (or gets ``RLIMIT_NPROC``)."""
    return _steps({"processes": lambda: _limit_processes(limits, cgroup)})


def apply(limits: Limits, cgroup: str | None = None) -> dict[str, str]:
    """Apply the limits to this process (before ``exec`` of the kernel); say what held."""
    report = apply_before_start(limits)
    report.update(apply_processes(limits, cgroup))
    os.environ["AUTOGRADER_SANDBOX"] = json.dumps(report)
    return report


def process_start(pid: int) -> int | None:
    """When the process started (``/proc/PID/stat``, clock ticks since boot); ``None`` if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


def process_alive(pid: int, started: int | None) -> bool:
    """Whether ``pid`` still runs and is the process that started at ``started``.

    A pid is reused once its process is reaped; the start time tells them apart. A zombie
    (ended, not reaped yet) is not alive.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return False
    return started is None or int(fields[19]) == started


def kill_session(pid: int | None, cgroup: Path | None) -> None:
    """Kill the kernel's process group and everything in its cgroup, then remove the cgroup."""
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if cgroup is not None and cgroup.exists():
        for _ in range(50):
            try:
                pids = (cgroup / "cgroup.procs").read_text().split()
            except OSError:
                break
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(int(p), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        deadline = time.monotonic() + 2.0
        delay = 0.002
        while True:  # killed processes leave the cgroup once they are reaped (milliseconds)
            try:
                cgroup.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(delay)
                delay = min(delay * 2, 0.05)


def main(argv: list[str]) -> None:
    limits_json, cgroup, dash, *cmd = argv
    if dash != "--" or not cmd:
        raise SystemExit(
            "usage: python -m autograder.grading.sandbox LIMITS CGROUP -- KERNEL_CMD..."
        )
    apply(Limits.from_json(limits_json), None if cgroup == "-" else cgroup)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
