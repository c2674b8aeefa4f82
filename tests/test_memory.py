"""The memory watcher counts a kernel and every process under it."""

import asyncio
import subprocess
import sys

from s2s_helpers.instructor.memory import MemoryWatch

# A parent that stays small and a grandchild that takes ~300 MiB and waits.
TREE = """\
import subprocess, sys
code = "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); input()"
child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
child.wait()
"""


def test_a_tree_over_the_limit_is_killed_and_one_under_it_is_not():
    async def run(limit_mb, seconds):
        process = subprocess.Popen([sys.executable, "-c", TREE], stdin=subprocess.PIPE)
        watch = MemoryWatch(interval=0.1)
        flag = watch.watch(process.pid, limit_mb * 2**20)
        try:
            for _ in range(int(seconds * 10)):
                await asyncio.sleep(0.1)
                if process.poll() is not None:
                    break
            return process.poll(), list(flag)
        finally:
            watch.forget(process.pid)
            process.kill()  # its child then reads the end of its input and exits
            process.wait()

    code, flag = asyncio.run(run(200, 10))
    assert code == -9 and flag and flag[0] > 200 * 2**20
    code, flag = asyncio.run(run(2000, 3))
    assert code is None and flag == []
