"""The one entry point of the benchmarks: ``python -m benchmarks NAME [OPTIONS]``.

    python -m benchmarks                     # the list (also --list)
    python -m benchmarks date_vs_seed --quick
    python -m benchmarks NAME --help         # a benchmark's own options
    python -m benchmarks all [--no-write]    # every benchmark, one after the other

Each benchmark is a module of this package with ``main(argv) -> int``; it
prints its results and rewrites its own section of docs/BENCHMARKS.md
(``--no-write``: print only). A new benchmark is one module and one line in
``BENCHMARKS``.
"""

from __future__ import annotations

import importlib
import sys
import traceback

# name (= module of this package): what it measures, in one line
BENCHMARKS = {
    "date_vs_seed": "date model: reference vs seed-style baseline, speed, memory",
    "applications": "lessons 08-10 in full mode: BLEU, dialogue replies, CER/WER",
    "lesson_claims": "the ranges behind lesson 06's stated numbers, over seeds",
    "grading": "what `s2s-course grade` costs per notebook: sandbox, pool, Dask",
    "step_efficiency": "a training step's FLOP/s vs the matrix-product ceiling",
}
USAGE = "usage: python -m benchmarks [--list | NAME [OPTIONS] | all [--no-write]]"


def listing() -> str:
    """The usage line and one line per benchmark."""
    width = max(map(len, BENCHMARKS))
    lines = [USAGE, "", "benchmarks (`python -m benchmarks NAME --help` for options):"]
    lines += [f"  {name:<{width}}  {text}" for name, text in BENCHMARKS.items()]
    lines.append(f"  {'all':<{width}}  every benchmark above, in this order")
    return "\n".join(lines)


def run(name: str, argv: list[str]) -> int:
    """Run one benchmark's ``main(argv)``; its exit status (None counts as 0)."""
    module = importlib.import_module(f"benchmarks.{name}")
    return module.main(argv) or 0


def run_all(argv: list[str]) -> int:
    """Every benchmark with ``argv``; a failed one is reported and the rest run."""
    failed = []
    for name in BENCHMARKS:
        print(f"[benchmarks] {name}", file=sys.stderr, flush=True)
        try:
            status = run(name, argv)
        except Exception:  # one broken benchmark must not lose hours of the others
            traceback.print_exc()
            status = 1
        if status:
            failed.append(name)
    if failed:
        print(f"[benchmarks] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("--list", "-h", "--help"):
        print(listing())
        return 0
    name, rest = argv[0], argv[1:]
    if name == "all":
        if set(rest) - {"--no-write"}:
            print(f"`all` takes only --no-write; received {rest}.", file=sys.stderr)
            return 2
        return run_all(rest)
    if name not in BENCHMARKS:
        print(
            f"unknown benchmark {name!r}; expected one of {[*BENCHMARKS, 'all']}.\n"
            + listing(),
            file=sys.stderr,
        )
        return 2
    return run(name, rest)


if __name__ == "__main__":
    sys.exit(main())
