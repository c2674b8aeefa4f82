"""``s2s-course lab``: which folder it serves, what it opens, what it configures.

Starting JupyterLab for real is ``tests/test_browser.py``'s job; here the
command line and the generated configuration are checked, and, in fresh
processes, that the launcher never imports TensorFlow and passes signals on.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from s2s_helpers import lab

ROOT = Path(__file__).resolve().parents[1]


def _course(
    tmp_path: Path, lessons=("00_orientation.ipynb", "03_attention.ipynb")
) -> Path:
    course = tmp_path / "course"
    (course / "lessons").mkdir(parents=True)
    for name in lessons:
        (course / "lessons" / name).write_text("{}")
    return course


def _args(**overrides) -> argparse.Namespace:
    values = dict(folder=None, instructor=False, port=None, ip=None, no_browser=False)
    return argparse.Namespace(**{**values, **overrides})


def test_course_root_is_found_from_inside_it(tmp_path):
    course = _course(tmp_path)
    inside = course / "lessons" / "notes"
    inside.mkdir()
    assert lab.find_course_root(inside) == course.resolve()
    assert lab.find_course_root(course) == course.resolve()
    assert lab.find_course_root(ROOT / "tests") == ROOT


def test_no_course_folder_says_where_it_looked_and_what_to_try(tmp_path):
    with pytest.raises(lab.CourseNotFound) as error:
        lab.find_course_root(tmp_path)
    assert str(tmp_path) in str(error.value)
    assert "s2s-course lab PATH" in str(error.value)


def test_lesson_00_opens_first_else_the_first_lesson(tmp_path):
    assert lab.first_lesson(_course(tmp_path)) == Path("lessons/00_orientation.ipynb")
    other = _course(tmp_path / "b", lessons=("05_loss.ipynb", "03_attention.ipynb"))
    assert lab.first_lesson(other) == Path("lessons/03_attention.ipynb")
    with pytest.raises(lab.CourseNotFound, match="holds no notebook"):
        lab.first_lesson(_course(tmp_path / "c", lessons=()))


@pytest.mark.parametrize("instructor", [False, True])
def test_generated_config_hides_news_and_nbgrader_for_learners_only(
    tmp_path, instructor
):
    lab.write_lab_config(tmp_path, instructor=instructor)
    page = json.loads((tmp_path / "labconfig" / "page_config.json").read_text())
    server = json.loads((tmp_path / "jupyter_server_config.json").read_text())
    disabled = page["disabledExtensions"]
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert disabled.get("@jupyterlab/apputils-extension:announcements") is True
    if instructor:
        assert "@jupyter/nbgrader" not in disabled and extensions == {}
    else:
        assert disabled["@jupyter/nbgrader"] is True
        assert extensions and not any(extensions.values())
        assert set(extensions) == set(lab.NBGRADER_SERVER_EXTENSIONS)


def test_nbgrader_names_match_what_nbgrader_installs():
    """What is hidden from learners is what the installed nbgrader turns on."""
    pytest.importorskip("nbgrader")
    from jupyter_core.paths import jupyter_config_path

    enabled = set()
    for folder in jupyter_config_path():
        path = Path(folder) / "jupyter_server_config.d" / "nbgrader.json"
        if path.is_file():
            enabled |= set(
                json.loads(path.read_text())["ServerApp"]["jpserver_extensions"]
            )
    assert enabled, "nbgrader is installed but turns on no server extension"
    assert enabled <= set(lab.NBGRADER_SERVER_EXTENSIONS)
    labextension = sys.modules["nbgrader"]._jupyter_labextension_paths()[0]["dest"]
    assert labextension == lab.NBGRADER_LAB_EXTENSION


def test_command_serves_the_course_and_opens_lesson_00(tmp_path):
    course = _course(tmp_path)
    args = _args(port=9999, ip="127.0.0.1", no_browser=True)
    command = lab.jupyter_command(course, args, ["--Extra.option=1"])
    assert command[:5] == [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        str(course / "lessons" / "00_orientation.ipynb"),
    ]
    assert f"--ServerApp.root_dir={course}" in command
    assert "--LabApp.news_url=None" in command
    assert {"--ServerApp.port=9999", "--ServerApp.ip=127.0.0.1", "--no-browser"} <= set(
        command
    )
    assert command[-1] == "--Extra.option=1"
    assert ("--allow-root" in command) == (os.geteuid() == 0)


def test_environment_puts_the_config_and_the_checkout_first(tmp_path, monkeypatch):
    course = _course(tmp_path)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "/elsewhere")
    monkeypatch.setenv("PYTHONPATH", "/lib")
    env = lab.launch_environment(course, tmp_path / "config")
    assert env["JUPYTER_CONFIG_PATH"] == os.pathsep.join(
        [str(tmp_path / "config"), "/elsewhere"]
    )
    assert env["PYTHONPATH"] == "/lib", "not a checkout: no s2s_helpers/ in the course"
    (course / "s2s_helpers").mkdir()
    (course / "s2s_helpers" / "__init__.py").write_text("")
    env = lab.launch_environment(course, tmp_path / "config")
    assert env["PYTHONPATH"] == os.pathsep.join([str(course), "/lib"])


# Runs in a fresh interpreter: `s2s-course lab --help`, then the whole set-up
# path of `s2s-course lab FOLDER` with JupyterLab replaced by a recorder.
SET_UP_SCRIPT = """
import json, subprocess, sys
from pathlib import Path
from s2s_helpers import cli, lab
try:
    cli.main(["lab", "--help"])
except SystemExit:
    pass
after_help = sorted(m for m in sys.modules if m.split(".")[0] in {"tensorflow", "keras"})
seen = {}
class Recorder:
    def __init__(self, command, env):
        config = Path(env["JUPYTER_CONFIG_PATH"].split(":")[0])
        seen.update(command=command, config=sorted(
            str(p.relative_to(config)) for p in config.rglob("*.json")))
    def wait(self):
        return 0
subprocess.Popen = Recorder
status = cli.main(["lab", sys.argv[1], "--no-browser"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"tensorflow", "keras", "jupyterlab"})
print(json.dumps(dict(after_help=after_help, heavy=heavy, status=status, **seen)))
"""


def test_lab_help_and_set_up_import_no_tensorflow(tmp_path):
    course = _course(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", SET_UP_SCRIPT, str(course / "lessons")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["after_help"] == [], "s2s-course lab --help imported TensorFlow"
    assert report["heavy"] == [], (
        "the launcher's set-up imported TensorFlow or JupyterLab"
    )
    assert report["status"] == 0
    assert report["command"][4] == str(
        course.resolve() / "lessons" / "00_orientation.ipynb"
    )
    assert report["config"] == [
        "jupyter_server_config.json",
        "labconfig/page_config.json",
    ]
    assert "serving" in result.stdout and "Traceback" not in result.stderr


WAIT_SCRIPT = """
import subprocess, sys
from s2s_helpers import lab
child = subprocess.Popen([sys.executable, "-c", (
    "import signal, sys, time\\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))\\n"
    "print('ready', flush=True)\\n"
    "time.sleep(60)")])
sys.exit(lab._wait(child))
"""


def test_terminating_the_launcher_stops_jupyterlab(tmp_path):
    launcher = subprocess.Popen(
        [sys.executable, "-c", WAIT_SCRIPT], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert launcher.stdout.readline().strip() == "ready"
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(30) == 7, "the child did not get the launcher's SIGTERM"
    finally:
        launcher.kill()
