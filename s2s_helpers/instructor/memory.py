"""A kernel's memory limit: one watcher of ``/proc`` for every running kernel.

The address-space limit (set before the sandbox starts) stops a single huge
allocation; this watcher stops a kernel whose resident memory, summed over it
and every process under it, passes the limit: it kills the sandbox's outer
process, and the sandbox ends with everything in it.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import asyncio
import os
import signal


class MemoryWatch:
    """Kills a kernel when it and every process under it pass a resident memory limit.

    One scan of /proc serves every kernel the grader runs at the same time.
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.watched: dict[int, tuple[int, list]] = {}  # pid -> (bytes, flag)
        self.task: asyncio.Task | None = None

    def watch(self, pid: int, limit_bytes: int) -> list:
        """Start watching; the returned list receives the usage when killed."""
        flag: list = []
        self.watched[pid] = (limit_bytes, flag)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._run())
        return flag

    def forget(self, pid: int) -> None:
        self.watched.pop(pid, None)

    @staticmethod
    def _processes(page: int) -> dict[int, tuple[int, int]]:
        """{pid: (parent pid, resident bytes)} of every process."""
        processes = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            processes[int(entry.name)] = (int(fields[1]), int(fields[21]) * page)
        return processes

    def _usage(self, page: int) -> dict[int, int]:
        """{watched pid: resident bytes of it and all its descendants}."""
        processes = self._processes(page)
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in processes.items():
            children.setdefault(parent, []).append(pid)
        usage = {}
        for root in list(self.watched):
            total, stack = 0, [root]
            while stack:
                pid = stack.pop()
                total += processes.get(pid, (0, 0))[1]
                stack += children.get(pid, [])
            usage[root] = total
        return usage

    async def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while self.watched:
            for pid, used in self._usage(page).items():
                limit, flag = self.watched.get(pid, (None, None))
                if limit is not None and used > limit and not flag:
                    flag.append(used)
                    try:
                        os.kill(pid, signal.SIGKILL)  # the sandbox ends with it
                    except OSError:
                        pass
            await asyncio.sleep(self.interval)


MEMORY_WATCH = MemoryWatch()
