"""A hostile class: each attack replaces the exercise 0.1 stub of lesson 00.

Each attacker uses what it stole when it can (it would then score), else
answers wrong; so "the attacker gains nothing" is its grade. ``{solutions}``,
``{out}``, ``{submissions}``, ``{tmp}`` are filled in with the grader's real
folders. Every daemon an attacker starts shows ``MARKER`` in its command line.
"""

from pathlib import Path

from gradingtools import LESSON, NAME, WRONG_COUNT, notebook

MARKER = "3600.0042"

READ_SOLUTIONS = (
    """\
import contextlib, glob, io, os
from s2s_helpers import checks
stolen = io.StringIO()
with contextlib.redirect_stdout(stolen):
    try:
        checks.show_solution("0.1")
    except Exception:
        pass
folders = [{solutions!r}, os.environ.get("S2S_SOLUTIONS_DIR", ""),
           str(checks.framework.solutions_dir())]
for pid in filter(str.isdigit, os.listdir("/proc")):  # the grader's --solutions
    try:
        words = open(f"/proc/{{pid}}/cmdline").read().split("\\0")
    except OSError:
        continue
    folders += [w for w in words if "solutions" in w]
for name in [n for f in folders if f for n in glob.glob(os.path.join(f, "*.ipynb"))]:
    with contextlib.suppress(OSError):
        stolen.write(open(name).read())
if "return (ids != 0).sum(axis=1)" in stolen.getvalue():
    def count_real_tokens(ids):
        return (ids != 0).sum(axis=1)
else:
"""
    + "    "
    + WRONG_COUNT.replace("\n", "\n    ")
)

SABOTAGE = (
    """\
import glob, json, time
forged = json.dumps({{"token": "x", "exercise": "0.1", "observation": "{{}}"}})
patterns = [{tmp!r} + "/s2s-grade-*/channel/*", "/tmp/s2s-grade-*/channel/*",
            {out!r} + "/students/*", {out!r} + "/grades.csv",
            {submissions!r} + "/*/*.ipynb"]
for _ in range(40):  # for ten seconds, while the others are being graded
    for path in [p for pattern in patterns for p in glob.glob(pattern)]:
        try:
            open(path, "w").write(forged)
        except OSError:
            pass
    time.sleep(0.25)
"""
    + WRONG_COUNT
)

_FORGE_LATER = """
import glob, json, sys, time
out = sys.argv[1]
end = time.time() + 120
while time.time() < end:
    for path in glob.glob(out + "/students/*.json"):
        try:
            record = json.load(open(path))
            record["total"] = 99
            json.dump(record, open(path, "w"))
        except (OSError, ValueError):
            pass
    try:
        open(out + "/students/forger.json", "w").write("null")
        open(out + "/grades.csv", "a").write("forger,2,2,4")
    except OSError:
        pass
    time.sleep(0.5)
"""

FORGER = (
    f"""\
import subprocess, sys
subprocess.Popen([sys.executable, "-c", {_FORGE_LATER!r}, {{out!r}}, "{MARKER}"],
                 start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""
    + WRONG_COUNT
)

KILLER = (
    """\
import os, signal
grader = [b"pytest", b"multiprocessing", b"s2s-course", b"bwrap", b"dask"]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmdline = open(f"/proc/{{pid}}/cmdline", "rb").read()
    except OSError:
        continue
    if int(pid) != os.getpid() and any(word in cmdline for word in grader):
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
if os.getppid() > 1:
    os.kill(os.getppid(), signal.SIGKILL)
"""
    + WRONG_COUNT
)

DAEMONS = (
    (
        f"""\
import os, subprocess
subprocess.Popen(["sh", "-c", "sleep {MARKER} & exit 0"], start_new_session=True)
if os.fork() == 0:  # a classic double fork
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{MARKER}"])
    os._exit(0)
"""
        + WRONG_COUNT
    )
    .replace("{", "{{")
    .replace("}", "}}")
)

INJECTED_NAME = '=HYPERLINK("evil")<img src=x onerror=alert(1)>**b**\x1b[2J'
# how grades.csv shows it: a formula neutralised, the escape sequence removed
INJECTED_CSV = '\'=HYPERLINK("evil")<img src=x onerror=alert(1)>**b**'
INJECTION = (
    "raise ValueError('<img src=x onerror=alert(1)> ```\\x1b]0;pwned\\x07\\x1b[31m')\n"
)

ATTACKS = {
    # student: (exercise 0.1 cell, expected (0.1, 0.2, total), statuses)
    "read_solutions": (READ_SOLUTIONS, ("0", "0", "0"), ("failed", "not_attempted")),
    "sabotage": (SABOTAGE, ("0", "0", "0"), ("failed", "not_attempted")),
    "forger": (FORGER, ("0", "0", "0"), ("failed", "not_attempted")),
    "killer": (KILLER, ("0", "0", "0"), ("failed", "not_attempted")),
    "daemons": (DAEMONS, ("0", "0", "0"), ("failed", "not_attempted")),
    INJECTED_NAME: (INJECTION, ("0", "0", "0"), ("error", "not_attempted")),
}
# 'linker' submits a link to perfect's notebook: nothing of it is graded.
LINKER = {"linker": ({}, ("0", "0", "0"), ())}


def attackers(places: dict) -> dict:
    """The attacks as submissions {student: (files, points, statuses)}."""
    return {
        student: (
            {NAME: notebook(LESSON, exercise_0_1=source.format(**places))},
            points,
            statuses,
        )
        for student, (source, points, statuses) in ATTACKS.items()
    }


def add_links(submissions: Path) -> None:
    """'linker' links perfect's notebook; 'copycat' links perfect's folder."""
    (submissions / "linker").mkdir()
    (submissions / "linker" / NAME).symlink_to(submissions / "perfect" / NAME)
    (submissions / "copycat").symlink_to(submissions / "perfect")
