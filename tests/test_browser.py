"""End to end in a browser: lesson 03 in JupyterLab, as a learner sees it.

JupyterLab starts the way the README says (``s2s-course lab``), on a copy of the
course (the repository's ``lessons/`` is never touched), on a free loopback port
with a token. Headless Chromium (Debian's ``chromium``, driven by Playwright)
opens lesson 03, runs all cells and checks what the learner sees: the course's
kernel, a short "not attempted" line under every check, the attention heatmap;
then it types a wrong and a right answer into Exercise 3.1.

Screenshots go to ``test-artifacts/browser/``, with the server's log. Without
chromium or Playwright the test is skipped, except in CI (``CI=true``), where it
fails.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from browsertools import Lab, free_port, open_notebook, run_all

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
LESSON = "lessons/03_attention.ipynb"
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
RUN_ALL_SECONDS = 420  # lesson 03, quick mode: 2-3.5 min on 2 busy cores
WRONG_3_1 = """def additive_scores(query, keys, W_a, v_a):
    projected = tf.matmul(query, W_a)[:, None, :]  # (batch, 1, attention_units)
    energy = tf.matmul(projected + keys, v_a)  # no tanh
    return energy[..., 0]
"""

pytestmark = pytest.mark.timeout(900)


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so the browser test must run")
    pytest.skip(reason)


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    return sync_playwright


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        _unavailable(
            "no `chromium` on PATH (Debian's package: `apt-get install chromium`; "
            "`make test` installs it when run as root)"
        )
    return path


def _dying_with_pytest(command: list[str]) -> list[str]:
    """``command``, made to get SIGTERM when pytest dies, even by SIGKILL (Linux).

    ``s2s-course lab`` passes the signal on to JupyterLab, which stops its kernels.
    """
    if not sys.platform.startswith("linux"):
        return command
    code = (
        "import ctypes, os, sys\n"
        "ctypes.CDLL(None).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM\n"
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", code, *command]


def _s2s_course() -> list[str]:
    script = Path(sys.executable).with_name("s2s-course")
    return (
        [str(script)] if script.exists() else [sys.executable, "-m", "s2s_helpers.cli"]
    )


@pytest.fixture
def lab(tmp_path):
    """JupyterLab serving a copy of the course, started as the README says."""
    course = tmp_path / "course"
    for name in ("lessons", "solutions", "s2s_helpers"):
        ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
        shutil.copytree(ROOT / name, course / name, ignore=ignore)
    port, token = free_port(), secrets.token_hex(16)
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env["S2S_QUICK"] = "1"
    command = [
        *_s2s_course(), "lab", str(course), "--port", str(port),
        "--ip", "127.0.0.1", "--no-browser", "--",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",  # to ask the page's kernel questions
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
    ]  # fmt: skip
    log = ARTIFACTS / "jupyterlab.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            _dying_with_pytest(command), cwd=tmp_path, env=env, stdout=log_file,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = Lab(course, port, token, process, log)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser():
    """Headless Chromium; it always closes."""
    sync_playwright, executable = _playwright(), _chromium()
    args = CHROMIUM_ARGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, lab):
    """A page of ``browser`` (started first: skipping needs no server).

    Its last state is saved as ``99_last_state.png``, also when the test fails.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.screenshot(path=ARTIFACTS / "99_last_state.png")


@pytest.fixture(autouse=True, scope="module")
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)


def _assert_course_kernel(lesson, course: Path) -> None:
    """The kernel runs the course's Python and imports the served s2s_helpers."""
    code = "import sys, s2s_helpers\nprint(sys.prefix)\nprint(s2s_helpers.__file__)"
    prefix, helpers = lesson.kernel_says(code).split("\n")[:2]
    assert prefix == sys.prefix, (
        f"the kernel runs {prefix}, not the course's {sys.prefix}"
    )
    assert Path(helpers).is_relative_to(course), (
        f"the kernel imports s2s_helpers from {helpers}, not from the served {course}"
    )


def _assert_heatmap(lesson) -> None:
    plot = lesson.index("translator.plot(")
    image = lesson.cells.nth(plot).locator(".jp-OutputArea img")
    assert image.count() == 1, (
        f"the heatmap cell shows {lesson.output(plot)!r}, no image"
    )
    image.scroll_into_view_if_needed()
    size = "img => img.complete && img.naturalWidth > 100 && img.naturalHeight > 100"
    assert image.evaluate(size), "the heatmap image did not render"
    lesson.screenshot("02_heatmap", plot)


def _answer_3_1(lesson, check: int, code: str, screenshot: str) -> str:
    """Type ``code`` into Exercise 3.1, run it and its check; the check's output."""
    exercise = lesson.index("def additive_scores(")
    lesson.type_into(exercise, code)
    text = lesson.run_exercise_and_check(exercise, check)
    lesson.screenshot(screenshot, exercise)
    return text


def test_lesson_03_in_jupyterlab(page, lab):
    lesson = open_notebook(page, lab, LESSON, ARTIFACTS)
    menus = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").all_text_contents()
    assert "Nbgrader" not in menus, f"a learner sees nbgrader's menu: {menus}"
    assert page.get_by_text("Validate", exact=True).count() == 0, "a Validate button"
    assert page.get_by_text("Create Assignment").count() == 0, "nbgrader's panel"

    started = time.monotonic()
    run_all(lesson, RUN_ALL_SECONDS)
    print(f"Run All Cells on lesson 03 took {time.monotonic() - started:.0f} s")
    model = lesson.model()
    stderr = {i: c["stderr"] for i, c in enumerate(model) if c["stderr"]}
    assert not stderr, f"cells wrote on stderr (TensorFlow's logs?): {stderr}"
    checks = [i for i, c in enumerate(model) if c["source"].startswith("checks.check_")]
    assert len(checks) == 4, f"lesson 03 has 4 check cells; found {len(checks)}"
    lesson.screenshot("01_run_all_not_attempted", checks[0])
    _assert_course_kernel(lesson, lab.course)
    for index in checks:
        text = lesson.output(index)
        assert "is not attempted yet" in text, f"check cell {index} shows {text!r}"
        for noise in ("Traceback", "framework.py"):
            assert noise not in text, f"check cell {index} shows a {noise}: {text!r}"
    _assert_heatmap(lesson)

    text = _answer_3_1(lesson, checks[0], WRONG_3_1, "03_wrong_answer")
    assert re.search(r"^✘ Exercise 3\.1 \(additive_scores\):", text, re.M), text
    assert 'checks.hint("3.1")' in text and "Traceback" not in text, text
    solution = nbformat.read(ROOT / "solutions" / "03_attention.ipynb", as_version=4)
    right = next(c.source for c in solution.cells if "def additive_scores(" in c.source)
    text = _answer_3_1(lesson, checks[0], right, "04_right_answer")
    assert re.search(r"^✔ Exercise 3\.1 \(additive_scores\) passed", text, re.M), text
    assert page.get_by_text("official Jupyter news").count() == 0, "the news pop-up"
