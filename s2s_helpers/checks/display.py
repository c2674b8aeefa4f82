"""How a check's outcome looks: one to four calm lines, never course internals.

In JupyterLab a failed check cell still raises (so nbval, ``nbgrader
validate`` and the class grader see it), but IPython shows the exception
through its ``_render_traceback_``: the lines below instead of a traceback
through the course's own code. In a terminal the normal traceback ends with
the same message.

Taught in: lessons/00_orientation.ipynb
"""

from __future__ import annotations

GREEN = "\x1b[32m"
RED = "\x1b[31m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"
PASSED, FAILED, NOT_ATTEMPTED = "\u2714", "\u2718", "\u25cb"  # ✔ ✘ ○


def hint_pointer(exercise_id: str) -> str:
    """The line that tells a learner where to find help."""
    return f'`checks.hint("{exercise_id}")` for a hint'


def passed_line(message: str) -> str:
    """The green line of a passed check."""
    return f"{GREEN}{PASSED} {message}{RESET}"


def failure_lines(message: str, exercise_id: str | None) -> list[str]:
    """A red ✘ line naming the mistake, its expected/received lines, the hint pointer."""
    first, *rest = message.splitlines() or [""]
    lines = [f"{RED}{FAILED} {first}{RESET}", *rest]
    if exercise_id:
        lines.append(f"{DIM}  {hint_pointer(exercise_id)}{RESET}")
    return lines


def not_attempted_lines(message: str) -> list[str]:
    """The neutral line of an exercise that is not attempted yet."""
    return [f"{NOT_ATTEMPTED} {message}"]


def not_attempted(message: str) -> NotImplementedError:
    """A ``NotImplementedError`` that IPython shows as one neutral line."""
    error = NotImplementedError(message)
    error._render_traceback_ = lambda: not_attempted_lines(message)
    return error
