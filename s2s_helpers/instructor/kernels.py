"""Run a student's code in a limited, sandboxed Jupyter kernel; restart it when it dies.

A kernel is started through a small launcher that sets resource limits, then
runs ipykernel inside the sandbox (``sandbox.sandbox_command``): address space
(the memory limit plus headroom, so a huge allocation fails at once with
``MemoryError``), file size, no core dumps. One watcher scans ``/proc`` four
times a second and kills a kernel (with every process under it) when their
resident memory passes the limit. The kernel talks to the grader over Unix
sockets in its private folder (no network is needed), gets no GPU, an
allow-listed environment and ``S2S_QUICK=1`` (unless the grading is
``--full``); its output is discarded and only its errors are kept.

``run_steps`` runs a list of steps in order. A step that kills the kernel or
runs past the cell time limit is recorded and skipped: the kernel is restarted
and the steps before it run again (a probe that already ran is not run twice).
After ``max_restarts`` restarts, or at the notebook's time limit, it stops.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from s2s_helpers.instructor.memory import MEMORY_WATCH

MAX_MESSAGE = 2000  # characters of an error message kept
ADDRESS_SPACE_HEADROOM_MB = 8192  # TensorFlow reserves ~2-3 GiB it never touches
FILE_SIZE_LIMIT = 2**30


@dataclass(frozen=True)
class Limits:
    """Per-notebook limits. Times in seconds, memory in MiB of resident memory."""

    timeout: float = 600.0
    cell_timeout: float = 300.0
    memory_mb: int = 4096
    max_restarts: int = 3
    quick: bool = True
    startup_timeout: float = 120.0


@dataclass
class Step:
    """One piece of code the kernel runs: the prelude, a student cell or a probe."""

    kind: str  # "prelude", "imports", "cell" or "probe"
    source: str
    exercise: str | None = None  # exercise id of an exercise cell or a probe
    cell_index: int | None = None  # position in the student's notebook


class KernelDied(Exception):
    """The kernel process ended (exit, signal or memory limit)."""


class CellTimedOut(Exception):
    """A cell ran past its time limit."""


# The kernel is started through this launcher: limits first, then ipykernel.
_LAUNCHER = """\
import os, resource, sys
address_space, file_size = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
if address_space > 0:
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
if file_size > 0:
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
os.execv(sys.argv[3], sys.argv[3:])
"""


_QUIET_LOG = logging.getLogger("s2s_helpers.instructor.kernel")
_QUIET_LOG.addHandler(logging.NullHandler())
_QUIET_LOG.propagate = False


def _limited_manager(memory_mb: int, sandbox: list[str], channel: Path, name: str):
    """A kernel manager: the limits launcher, the sandbox, then the kernel.

    Args:
        sandbox: the ``bwrap ... --`` prefix, or [] to run without a sandbox.
        channel: the private folder of the connection file and Unix sockets.
        name: a prefix for this kernel's files there.
    """
    from jupyter_client.manager import AsyncKernelManager

    address_space = (memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 2**20

    class LimitedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            command = super().format_kernel_cmd(extra_arguments)
            launcher = [sys.executable, "-c", _LAUNCHER]
            limits = [str(address_space), str(FILE_SIZE_LIMIT)]
            return launcher + limits + sandbox + command

    manager = LimitedKernelManager(
        kernel_name="python3", log=_QUIET_LOG, transport="ipc"
    )
    manager.ip = str(channel / name)
    manager.connection_file = str(channel / f"{name}.json")
    return manager


def _quiet_client(km, kc):
    """A notebook client that keeps only the error outputs of a cell, shortened."""
    import nbformat
    from nbclient import NotebookClient

    class QuietClient(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] != "error":
                return None
            content = msg["content"]
            out = nbformat.v4.new_output(
                "error",
                ename=str(content.get("ename", ""))[:200],
                evalue=str(content.get("evalue", ""))[:MAX_MESSAGE],
                traceback=[],
            )
            outs.append(out)
            return out

    client = QuietClient(
        nbformat.v4.new_notebook(), km=km, allow_errors=True, log=_QUIET_LOG
    )
    client.kc = kc
    return client


class KernelSession:
    """A sandboxed kernel that runs cells and reports errors, deaths and timeouts."""

    def __init__(
        self, limits: Limits, env: dict, work: Path, sandbox: list[str], name: str
    ) -> None:
        self.limits, self.env, self.work, self.sandbox = limits, env, work, sandbox
        self.name = name
        self.km = self.kc = self.client = self.process = None
        self.memory_flag: list = []

    async def start(self) -> None:
        """Start the kernel under the limits and wait until it answers."""
        limits = self.limits
        self.km = _limited_manager(
            limits.memory_mb, self.sandbox, self.work / "channel", self.name
        )
        await self.km.start_kernel(
            env=self.env,
            cwd=str(self.work / "scratch"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
        )
        self.process = self.km.provisioner.process
        self.memory_flag = MEMORY_WATCH.watch(
            self.process.pid, limits.memory_mb * 2**20
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        try:
            await asyncio.wait_for(
                self.kc.wait_for_ready(timeout=limits.startup_timeout),
                limits.startup_timeout + 5,
            )
        except Exception:
            await self.stop()
            raise
        self.client = _quiet_client(self.km, self.kc)

    async def run(self, source: str, timeout: float) -> str | None:
        """Run one cell; return "Name: message" of its error, or None."""
        import nbformat
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells = [cell]
        self.client.timeout = max(1, int(round(timeout)))
        try:
            await self.client.async_execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            raise CellTimedOut() from None
        except DeadKernelError:
            raise KernelDied(self.death_reason()) from None
        if self.process.poll() is not None:
            raise KernelDied(self.death_reason())
        for output in cell.outputs:
            if output.get("output_type") == "error":
                return f"{output.get('ename')}: {output.get('evalue')}".strip()
        return None

    def death_reason(self) -> str:
        """Why the kernel stopped, in words for the student's feedback."""
        if self.memory_flag:
            used = self.memory_flag[0] / 2**20
            return (
                f"memory limit of {self.limits.memory_mb} MiB exceeded ({used:.0f} MiB)"
            )
        code = None
        for _ in range(20):
            code = self.process.poll()
            if code is not None:
                break
            time.sleep(0.05)
        if code is None:
            return "the kernel stopped responding"
        if self.sandbox and code > 128:  # bwrap reports a signal N as 128 + N
            code = 128 - code
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            meaning = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (killed)"}
            return f"the kernel was stopped by {name}{meaning.get(name, '')}"
        return f"the kernel exited with code {code}"

    async def stop(self) -> None:
        if self.process is not None:
            MEMORY_WATCH.forget(self.process.pid)
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None:
                await self.km.shutdown_kernel(now=True)
        except Exception:  # already dead: nothing left to stop
            pass
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
        self.km = self.kc = self.client = None


# --- running a notebook's steps ----------------------------------------------------


@dataclass
class Box:
    """Where a notebook's kernels run: the sandbox prefix, environment, folder.

    ``work`` holds ``scratch`` (the kernel's working folder) and ``channel``
    (sockets and observations); ``command`` is the ``bwrap ... --`` prefix, or
    [] without a sandbox. ``timings`` adds up seconds by phase: "kernel_start",
    "imports", "notebook".
    """

    command: list[str]
    env: dict
    work: Path
    timings: dict = field(default_factory=dict)

    def add_time(self, phase: str, started: float) -> None:
        elapsed = time.monotonic() - started
        self.timings[phase] = self.timings.get(phase, 0.0) + elapsed


async def run_steps(steps: list[Step], limits: Limits, box: Box, notes: list[str]):
    """Run the steps, restarting the kernel after a death or a cell timeout.

    Returns:
        ({step index: (event, detail)}, complete). Events: "ok", "error",
        "died", "timed_out" (cell limit), "deadline" (notebook limit),
        "not_run" (too many restarts), "no_kernel" (then complete is False).
    """
    deadline = time.monotonic() + limits.timeout
    events: dict[int, tuple[str, str | None]] = {}
    restarts, position, session = 0, 0, None
    try:
        while position < len(steps):
            if _done(steps[position], events.get(position)):
                position += 1
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if session is None:
                try:
                    session = await _start(limits, box, restarts, remaining)
                except Exception as error:
                    if time.monotonic() >= deadline:
                        break
                    notes.append(f"The grader could not start a kernel: {error!r}")
                    return _fill(events, len(steps), "no_kernel"), False
            started = time.monotonic()
            event = await _run_step(session, steps[position].source, limits, deadline)
            box.add_time(
                "imports" if steps[position].kind == "imports" else "notebook", started
            )
            events[position] = event
            if event[0] in {"ok", "error"}:
                position += 1
                continue
            if event[0] == "deadline":
                break
            await session.stop()  # the step is skipped from now on
            session, restarts = None, restarts + 1
            if restarts > limits.max_restarts:
                notes.append(
                    f"The kernel was restarted {limits.max_restarts} times; the rest "
                    "of the notebook was not run."
                )
                _fill(events, len(steps), "not_run")
                break
            position = 0
    finally:
        if session is not None:
            await session.stop()
    return _fill(events, len(steps), "deadline"), True


def _done(step: Step, event: tuple | None) -> bool:
    """Whether a restarted kernel skips this step: it killed a kernel or ran too
    long before, or it is a probe whose observation is already written."""
    name = event[0] if event else None
    return name in {"died", "timed_out"} or (step.kind == "probe" and name == "ok")


async def _start(limits: Limits, box: Box, number: int, remaining: float):
    """A started KernelSession; raises (with the session stopped) if none starts."""
    started = time.monotonic()
    session = KernelSession(limits, box.env, box.work, box.command, f"kernel{number}")
    try:
        await asyncio.wait_for(session.start(), max(remaining, 1))
    except Exception:
        await session.stop()
        raise
    box.add_time("kernel_start", started)
    return session


async def _run_step(
    session: KernelSession, source: str, limits: Limits, deadline: float
) -> tuple[str, str | None]:
    """Run one step; return its (event, detail)."""
    try:
        error = await session.run(
            source, min(limits.cell_timeout, deadline - time.monotonic())
        )
    except CellTimedOut:
        late = time.monotonic() >= deadline - 0.5
        return ("deadline", None) if late else ("timed_out", None)
    except KernelDied as death:
        return ("died", str(death))
    return ("error", error) if error else ("ok", None)


def _fill(events: dict, count: int, event: str) -> dict:
    """Give every step without an event yet this one."""
    for index in range(count):
        events.setdefault(index, (event, None))
    return events
