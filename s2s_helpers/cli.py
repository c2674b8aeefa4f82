"""The ``s2s-course`` command: demo, make-lessons, grade, lab.

s2s-course demo [--out DIR] [--quick]   train the date model, print, plot
s2s-course make-lessons [--check]       write lessons/ from solutions/
s2s-course grade SUBMISSIONS --out DIR  grade a class of notebooks
s2s-course lab [FOLDER] [--instructor]  open the course in JupyterLab (lab --help)
"""

from __future__ import annotations

import argparse
import sys


def _demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="s2s-course demo", description=_demo.__doc__)
    parser.add_argument(
        "--out", default="demo_output", help="where to save attention.png"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller run for a smoke test"
    )
    args = parser.parse_args(argv)
    from s2s_helpers import demo

    score = demo.run(args.out, quick=args.quick)
    return 0 if score >= (0.5 if args.quick else 0.99) else 1


def _lab(argv: list[str]) -> int:
    from s2s_helpers import lab

    return lab.main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"demo": _demo, "lab": _lab}
    if argv and argv[0] == "make-lessons":
        from s2s_helpers.instructor.notebooks import make_lessons_main

        return make_lessons_main(argv[1:])
    if argv and argv[0] == "grade":
        from s2s_helpers.instructor.command import grade_main

        return grade_main(argv[1:])
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 0 if argv[:1] in ([], ["-h"], ["--help"]) else 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
