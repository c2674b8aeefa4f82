"""The OS sandbox, tried directly with Python in it (no kernel, no TensorFlow).

What a student's code must not see or do: the solutions, another work folder,
the grader's processes, the network, the grader's environment; and nothing it
starts outlives it.
"""

import json
import subprocess
import sys
import time

from gradingtools import ROOT, needs_sandbox, processes_under

from s2s_helpers.instructor import sandbox

pytestmark = needs_sandbox

PROBE = """\
import json, os, socket, sys
seen = {}
for path in sys.argv[1:]:
    seen[path] = os.path.exists(path) and (not os.path.isdir(path) or bool(os.listdir(path)))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    seen["network"] = True
except OSError:
    seen["network"] = False
seen["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
seen["environment"] = dict(os.environ)
for path in ["/usr/forged", os.path.join(os.path.dirname(sys.executable), "x")]:
    try:
        open(path, "w")
        seen[path] = "written"
    except OSError:
        pass
open("mine.txt", "w").write("scratch is writable")
print(json.dumps(seen))
"""


def run_in_sandbox(work, code, *arguments, hidden=()):
    (work / "scratch").mkdir(parents=True, exist_ok=True)
    command = sandbox.sandbox_command(work, hidden) + [sys.executable, "-c", code]
    env = sandbox.environment(work / "scratch", quick=True, sandboxed=True)
    return subprocess.run(
        command + list(arguments), env=env, capture_output=True, text=True, timeout=60
    )


def test_student_code_sees_only_the_system_python_and_the_course(tmp_path):
    other = tmp_path / "other-student"
    (other / "scratch").mkdir(parents=True)
    (other / "scratch" / "observation.json").write_text("{}")
    solutions = ROOT / "solutions"
    course = f"{sandbox.COURSE_ROOT}/s2s_helpers/checks/framework.py"
    done = run_in_sandbox(
        tmp_path / "me",
        PROBE,
        str(solutions),
        str(other),
        str(tmp_path),
        "/usr/share/doc",
        course,
        hidden=["/usr/share/doc"],
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen[str(solutions)] is False  # no solution notebook anywhere
    assert seen[str(other)] is False and seen[str(tmp_path)] is True  # only its own
    assert seen["/usr/share/doc"] is False  # a hidden folder is covered
    assert seen[course] is True
    assert seen["network"] is False
    assert seen["pids"] == [1]  # the grader's processes are not visible
    assert "/usr/forged" not in seen and not any(v == "written" for v in seen.values())
    assert (tmp_path / "me" / "scratch" / "mine.txt").exists()


def test_the_environment_is_an_allow_list(tmp_path, monkeypatch):
    monkeypatch.setenv("S2S_SOLUTIONS_DIR", str(ROOT / "solutions"))
    monkeypatch.setenv("GRADER_SECRET", "hunter2")
    done = run_in_sandbox(tmp_path, PROBE)
    environment = json.loads(done.stdout)["environment"]
    assert environment["S2S_GRADING"] == "1" and environment["S2S_QUICK"] == "1"
    assert environment["PYTHONPATH"] == sandbox.COURSE_ROOT
    assert "S2S_SOLUTIONS_DIR" not in environment and "GRADER_SECRET" not in environment
    expected = sandbox.environment(tmp_path / "scratch", quick=True, sandboxed=True)
    assert set(environment) - {"PWD", "SHLVL", "_", "LC_CTYPE"} == set(expected)


DAEMON = """\
import os, subprocess, sys
subprocess.Popen(["sleep", sys.argv[1]], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execvp("sleep", ["sleep", sys.argv[1]])
print("started")
"""


def test_nothing_started_in_the_sandbox_outlives_it(tmp_path):
    marker = "3600.0017"
    done = run_in_sandbox(tmp_path, DAEMON, marker)
    assert done.stdout.strip() == "started", done.stderr
    time.sleep(0.2)
    assert processes_under(tmp_path, marker) == []


def test_a_signal_death_is_reported_as_128_plus_the_signal(tmp_path):
    done = run_in_sandbox(tmp_path, "import ctypes; ctypes.string_at(0)")
    assert done.returncode == 128 + 11  # SIGSEGV (kernels.death_reason names it)


def test_the_course_is_read_only(tmp_path):
    framework = f"{sandbox.COURSE_ROOT}/s2s_helpers/checks/framework.py"
    done = run_in_sandbox(tmp_path, f"open({framework!r}, 'a')")
    assert done.returncode != 0 and "Read-only" in done.stderr


def test_a_python_and_course_under_tmp_stay_visible(tmp_path, monkeypatch):
    """The sandbox's fresh /tmp must not hide a checkout or a venv kept in /tmp."""
    course = tmp_path / "checkout" / "s2s_helpers"
    course.mkdir(parents=True)
    (course / "marker.txt").write_text("the course")
    real_mounts = sandbox._readonly_mounts
    monkeypatch.setattr(
        sandbox,
        "_readonly_mounts",
        lambda: real_mounts() + [("--ro-bind", str(course), str(course))],
    )
    code = "import sys; print(open(sys.argv[1]).read())"
    done = run_in_sandbox(tmp_path / "me", code, str(course / "marker.txt"))
    assert str(tmp_path).startswith("/tmp/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "the course"
