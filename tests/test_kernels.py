"""Kernels: why a kernel stopped, in words, through the sandbox's exit status.

Running real kernels (restarts, time limits, the memory watcher) is tested on
a whole class in test_classroom.py and on one task in test_grading.py.
"""

from pathlib import Path

import pytest

from s2s_helpers.instructor.kernels import Box, KernelSession, Limits, Step, _done


class Exited:
    def __init__(self, code):
        self.code = code

    def poll(self):
        return self.code


@pytest.mark.parametrize(
    "sandbox, code, words",
    [
        (["bwrap", "--"], 139, "stopped by SIGSEGV (segmentation fault)"),
        (["bwrap", "--"], 137, "stopped by SIGKILL (killed)"),
        (["bwrap", "--"], 1, "exited with code 1"),
        ([], -11, "stopped by SIGSEGV (segmentation fault)"),
        ([], 139, "exited with code 139"),
    ],
)
def test_death_reason_reads_the_sandbox_exit_status(sandbox, code, words):
    session = KernelSession(Limits(), {}, Path("."), sandbox, "kernel0")
    session.process = Exited(code)
    assert words in session.death_reason()


def test_the_memory_limit_is_named_first():
    session = KernelSession(Limits(memory_mb=100), {}, Path("."), [], "kernel0")
    session.process, session.memory_flag = Exited(137), [300 * 2**20]
    assert session.death_reason() == "memory limit of 100 MiB exceeded (300 MiB)"


def test_a_restarted_kernel_skips_what_killed_the_last_one_and_done_probes():
    cell, probe = Step("cell", "x = 1"), Step("probe", "")
    assert _done(cell, ("died", "")) and _done(cell, ("timed_out", None))
    assert not _done(cell, ("ok", None)) and not _done(cell, None)
    assert _done(probe, ("ok", None)) and not _done(probe, ("error", "E"))


def test_box_adds_up_time_by_phase():
    box = Box([], {}, Path("."))
    box.add_time("imports", 0.0)
    box.add_time("imports", 0.0)
    assert set(box.timings) == {"imports"} and box.timings["imports"] > 0
