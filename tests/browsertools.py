"""Driving JupyterLab from tests: its server's REST API and a notebook in a page.

Used by ``tests/test_browser.py``. JupyterLab 4 draws only the cells on screen,
so text is read with ``textContent``, cells are found in the notebook's model
(``--LabApp.expose_app_in_browser``) and scrolled into view before a screenshot,
and "finished" is judged from the model and the server's kernel states.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A JupyterLab server started by ``s2s-course lab`` and its REST API."""

    def __init__(self, course: Path, port: int, token: str, process, log: Path):
        self.course, self.token, self.process, self.log = course, token, process, log
        self.url = f"http://127.0.0.1:{port}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_until_up(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.5)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise AssertionError(
            f"s2s-course lab did not serve {self.url} within {seconds:.0f} s "
            f"(exit status {self.process.poll()}); its log ends:\n{tail}"
        )

    def kernel_states(self) -> list[str]:
        return [kernel["execution_state"] for kernel in self.api("kernels")]

    def stop(self) -> None:
        """Shut the kernels down, then the server (TERM, then KILL after 20 s)."""
        try:
            if self.process.poll() is None:
                for kernel in self.api("kernels"):
                    self.api(f"kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
        for signum, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            if self.process.poll() is not None:
                return
            os.killpg(self.process.pid, signum)
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                continue


# JavaScript run in the page: the notebook widget at a path and its cells' model.
NOTEBOOK_JS = """path => window.jupyterapp && Array.from(window.jupyterapp.shell.widgets('main'))
    .find(widget => widget.context && widget.context.path === path)"""
CELLS_JS = f"""path => ({NOTEBOOK_JS})(path).content.widgets.map(cell => ({{
    type: cell.model.type, source: cell.model.sharedModel.getSource(),
    count: cell.model.type === 'code' ? cell.model.executionCount : null,
    stderr: cell.model.type !== 'code' ? '' : cell.model.outputs.toJSON()
        .filter(out => out.output_type === 'stream' && out.name === 'stderr')
        .map(out => [].concat(out.text).join('')).join('')}}))"""
KERNEL_RUN_JS = f"""async ([path, code]) => {{
    const kernel = ({NOTEBOOK_JS})(path).sessionContext.session.kernel;
    const future = kernel.requestExecute({{code, store_history: false}});
    let text = '';
    future.onIOPub = msg => {{
        if (msg.header.msg_type === 'stream') text += msg.content.text;
        if (msg.header.msg_type === 'error') text += msg.content.evalue;
    }};
    await future.done;
    return text;
}}"""


class Notebook:
    """A notebook open in the page: its cells, what they show, how to run them."""

    def __init__(self, page, lab: Lab, path: str, artifacts: Path):
        self.page, self.lab, self.path, self.artifacts = page, lab, path, artifacts
        self.cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def model(self) -> list[dict]:
        return self.page.evaluate(CELLS_JS, self.path)

    def index(self, text: str) -> int:
        """The index of the first code cell whose source contains ``text``."""
        found = [i for i, c in enumerate(self.model()) if text in c["source"]]
        assert found, f"no cell of {self.path} contains {text!r}"
        return found[0]

    def output(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-OutputArea").text_content()

    def screenshot(self, name: str, index: int | None = None) -> None:
        """Save the page, with cell ``index`` scrolled to the top when given."""
        if index is not None:
            cell = self.cells.nth(index)
            for _ in range(2):  # off-screen cells' heights are estimates until drawn
                cell.evaluate("cell => cell.scrollIntoView({block: 'start'})")
                self.page.wait_for_timeout(300)
        self.page.screenshot(path=self.artifacts / f"{name}.png")

    def kernel_says(self, code: str) -> str:
        return self.page.evaluate(KERNEL_RUN_JS, [self.path, code])

    def wait_until_run(self, done, seconds: float, what: str) -> None:
        """Wait until ``done(model)`` holds and the kernel is idle."""
        deadline, idle_since = time.monotonic() + seconds, None
        while time.monotonic() < deadline:
            model = self.model()
            idle = self.lab.kernel_states() == ["idle"]
            if idle and done(model):
                return
            idle_since = (idle_since or time.monotonic()) if idle else None
            if idle_since and time.monotonic() - idle_since > 20:
                break  # idle for 20 s and still not done: a cell stopped the run
            time.sleep(1)
        self.screenshot("failure")
        waiting = [
            i for i, c in enumerate(model) if c["type"] == "code" and c["count"] is None
        ]
        raise AssertionError(
            f"{what} did not finish in {seconds:.0f} s (kernels: "
            f"{self.lab.kernel_states()}); code cells not run: {waiting}; "
            f"outputs of the first: {self.output(waiting[0]) if waiting else ''!r}"
        )

    def type_into(self, index: int, code: str) -> None:
        """Replace the source of cell ``index`` by typing, as a learner does."""
        cell = self.cells.nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".cm-content").click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(code)

    def run_exercise_and_check(self, exercise: int, check: int) -> str:
        """Run the exercise cell, then its check cell (Shift+Enter twice)."""
        before = self.model()[check]["count"]
        self.cells.nth(exercise).click()
        self.page.keyboard.press("Shift+Enter")  # runs it, selects the check cell
        self.page.keyboard.press("Shift+Enter")
        self.wait_until_run(
            lambda m: m[check]["count"] not in (None, before), 60, "the check"
        )
        return self.output(check)


def open_notebook(page, lab: Lab, path: str, artifacts: Path) -> "Notebook":
    """Open ``path`` in JupyterLab and wait until its kernel is idle."""
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}")
    page.wait_for_function(f"path => ({NOTEBOOK_JS})(path)", arg=path, timeout=60_000)
    ready = f"path => ({NOTEBOOK_JS})(path)?.sessionContext.session?.kernel?.status === 'idle'"
    page.wait_for_function(ready, arg=path, timeout=120_000)
    return Notebook(page, lab, path, artifacts)


def run_all(lesson: "Notebook", seconds: float) -> None:
    """Run > Run All Cells, from the menu bar; wait until every code cell ran."""
    page = lesson.page
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile("^Run$")).click()
    item = page.locator(
        ".lm-Menu-item .lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")
    )
    item.click()
    every_cell_ran = lambda model: all(  # noqa: E731
        c["count"] is not None for c in model if c["type"] == "code"
    )
    lesson.wait_until_run(every_cell_ran, seconds, "Run All Cells")
