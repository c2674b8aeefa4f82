"""``s2s-course lab``: open the course in JupyterLab, set up for a learner.

The launcher serves the course folder (the folder holding ``lessons/``, found
from the current folder upward, or the folder given) and opens lesson 00. It
leaves the user's Jupyter settings alone: everything it changes lives in a
configuration folder generated for this launch (added to
``JUPYTER_CONFIG_PATH``) and in command-line options, and is gone afterwards:

* the "Jupyter news" pop-up and the update check are off;
* learners do not see nbgrader's authoring tools (its menu, "Create
  Assignment", the Validate button, its server pages); ``--instructor`` keeps
  them;
* as root (containers, cloud notebooks) JupyterLab gets ``--allow-root``, with a
  one-line notice.

It imports neither TensorFlow nor JupyterLab: it starts ``jupyter lab`` with
the same Python and waits for it.

Documented in: README.md (``make lab``), docs/INSTRUCTORS.md (``--instructor``)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

FIRST_LESSON = "00_orientation.ipynb"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
NBGRADER_SERVER_EXTENSIONS = (
    "nbgrader",
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)


class CourseNotFound(FileNotFoundError):
    """No course folder (a folder holding ``lessons/``) where one was looked for."""


def find_course_root(start: Path) -> Path:
    """The course folder: ``start`` or its nearest parent holding ``lessons/``.

    Args:
        start: a folder inside the course (or the course folder itself).

    Returns:
        The absolute path of the folder that holds ``lessons/``.

    Raises:
        CourseNotFound: neither ``start`` nor any parent holds ``lessons/``.
    """
    start = Path(start).resolve()
    for folder in [start, *start.parents]:
        if (folder / "lessons").is_dir():
            return folder
    raise CourseNotFound(
        f"No course folder (one holding lessons/) in {start} or above it. "
        "Run `s2s-course lab` inside the course's folder, or give the folder: "
        "`s2s-course lab PATH/TO/s2s-course`."
    )


def first_lesson(root: Path) -> Path:
    """The notebook to open first, relative to ``root``: lesson 00 when present.

    Raises:
        CourseNotFound: ``root/lessons`` holds no notebook.
    """
    lessons = sorted((root / "lessons").glob("*.ipynb"))
    if not lessons:
        raise CourseNotFound(
            f"{root / 'lessons'} holds no notebook (expected {FIRST_LESSON}). "
            "In a checkout of the course, `s2s-course make-lessons` writes them."
        )
    chosen = root / "lessons" / FIRST_LESSON
    return (chosen if chosen in lessons else lessons[0]).relative_to(root)


def write_lab_config(config_dir: Path, instructor: bool) -> None:
    """Write the launch's Jupyter configuration into ``config_dir``.

    Args:
        config_dir: an empty folder, added to ``JUPYTER_CONFIG_PATH`` for the launch.
        instructor: keep nbgrader's authoring tools when True.
    """
    disabled = {NEWS_PLUGIN: True}
    server_extensions = {}
    if not instructor:
        disabled[NBGRADER_LAB_EXTENSION] = True
        server_extensions = {name: False for name in NBGRADER_SERVER_EXTENSIONS}
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": disabled}
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    server_config = {"ServerApp": {"jpserver_extensions": server_extensions}}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(server_config))


def jupyter_command(
    root: Path, args: argparse.Namespace, extra: list[str]
) -> list[str]:
    """The ``jupyter lab`` command line that serves ``root`` and opens its first lesson.

    Args:
        root: the course folder.
        args: the parsed ``s2s-course lab`` options.
        extra: more ``jupyter lab`` options, passed on unchanged (they come last).

    Returns:
        The command as a list of arguments.
    """
    command = [sys.executable, "-m", "jupyter", "lab", str(root / first_lesson(root))]
    command += [
        f"--ServerApp.root_dir={root}",
        "--ContentsManager.preferred_dir=lessons",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if args.port is not None:
        command.append(f"--ServerApp.port={args.port}")
    if args.ip is not None:
        command.append(f"--ServerApp.ip={args.ip}")
    if args.no_browser:
        command.append("--no-browser")
    if running_as_root():
        command.append("--allow-root")
    return command + extra


def running_as_root() -> bool:
    """True for the root user (``os.geteuid() == 0``), False elsewhere and on Windows."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def launch_environment(root: Path, config_dir: Path) -> dict:
    """The environment of ``jupyter lab`` and its kernels.

    The generated ``config_dir`` comes first in ``JUPYTER_CONFIG_PATH`` (after the
    user's own ``~/.jupyter``). In a checkout, ``root`` comes first in
    ``PYTHONPATH``, so kernels use the ``s2s_helpers`` the lessons were made with.
    """
    env = dict(os.environ)
    paths = [
        str(config_dir),
        *filter(None, env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)),
    ]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    if (root / "s2s_helpers" / "__init__.py").is_file():
        paths = [str(root), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2s-course lab",
        usage="s2s-course lab [FOLDER] [--instructor] [--port PORT] [--ip IP] "
        "[--no-browser] [-- JUPYTER-LAB-OPTIONS]",
        description="Open the course in JupyterLab at lesson 00.",
        epilog="Options after `--` go to `jupyter lab` unchanged, e.g. "
        "`s2s-course lab -- --IdentityProvider.token=SECRET`.",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        metavar="FOLDER",
        help="the course folder, or a folder inside it (default: the current folder)",
    )
    parser.add_argument(
        "--instructor",
        action="store_true",
        help="show nbgrader's authoring tools (Create Assignment, Validate, Formgrader)",
    )
    parser.add_argument(
        "--port", type=int, help="port to serve on (default: 8888 or the next free one)"
    )
    parser.add_argument("--ip", help="address to serve on (default: localhost)")
    parser.add_argument(
        "--no-browser", action="store_true", help="do not open a browser"
    )
    return parser


def main(argv: list[str]) -> int:
    """Run ``s2s-course lab``; returns JupyterLab's exit status (2 for a usage error).

    Args:
        argv: the options after ``lab``; those after ``--`` go to ``jupyter lab``.
    """
    split = argv.index("--") if "--" in argv else len(argv)
    ours, extra = argv[:split], argv[split + 1 :]
    args = _parser().parse_args(ours)
    try:
        root = find_course_root(Path(args.folder or "."))
        lesson = first_lesson(root)
    except CourseNotFound as error:
        print(f"s2s-course lab: {error}", file=sys.stderr)
        return 2
    if running_as_root():
        print(
            "s2s-course lab: running as root, so JupyterLab starts with --allow-root."
        )
    print(f"s2s-course lab: serving {root}, opening {lesson}")
    with tempfile.TemporaryDirectory(prefix="s2s-course-lab-") as config_dir:
        write_lab_config(Path(config_dir), args.instructor)
        process = subprocess.Popen(
            jupyter_command(root, args, extra),
            env=launch_environment(root, Path(config_dir)),
        )
        return _wait(process)


def _wait(process: subprocess.Popen) -> int:
    """Wait for JupyterLab: Ctrl-C is its own to handle; TERM and HUP are passed on."""

    def forward(signum, frame):
        process.send_signal(signum)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
    }
    if hasattr(signal, "SIGHUP"):
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, forward)
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
