"""Ranges behind the numbers lesson prose states, measured over seeds in full mode.

Lesson 06 compares teacher forcing, scheduled sampling and always-sampled
training on running counts (``data.generate_running_counts``). Its "what to
notice" may state only what held for every seed. This script runs the
lesson's own cells, the setup cell and the "Exposure bias, measured" section
of ``solutions/06_teacher_forcing.ipynb``, in a fresh kernel per seed, in full
mode (``S2S_QUICK`` unset), with the section's ``seed = 0`` line set to each
seed. It prints the ranges (min-max over seeds) and writes them to the
"## Lesson claims" section of docs/BENCHMARKS.md (other sections are kept).

    python -m benchmarks lesson_claims                 # seeds 0 1 2, write the doc
    python -m benchmarks lesson_claims --seeds 0 --no-write

Expect about 5 minutes per seed on 2 idle CPU cores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import time
from pathlib import Path

from benchmarks import reporting

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python -m benchmarks lesson_claims"
NOTEBOOK = ROOT / "solutions" / "06_teacher_forcing.ipynb"
SECTION_START, SECTION_END = "### Exposure bias, measured", "### Checkpoint and resume"
SEED_LINE = re.compile(r"^seed = 0\b", re.MULTILINE)
MARKER = "S2S_CLAIMS_REPORT "
REPORT_CELL = (
    "import json\nprint("
    + repr(MARKER)
    + " + json.dumps({'histories': histories, 'epochs': epochs, "
    "'train_size': train_size, 'val_size': val_size, 'length': length}))"
)


def section_sources(seed: int) -> list[str]:
    """The setup cell, the switch to the reference (``JIT``) and the section's code."""
    import nbformat

    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    headings = [i for i, c in enumerate(cells) if c.cell_type == "markdown"]
    start = next(i for i in headings if SECTION_START in cells[i].source)
    end = next(i for i in headings if SECTION_END in cells[i].source)
    setup = next(c.source for c in cells if c.cell_type == "code")
    switch = next(
        c.source for c in cells if c.source.startswith("teacher_forcing_ratio =")
    )
    code = [c.source for c in cells[start:end] if c.cell_type == "code"]
    seeded = [src for src in code if SEED_LINE.search(src)]
    if len(seeded) != 1:
        raise ValueError(
            f"expected one cell with a 'seed = 0' line in {NOTEBOOK.name}'s section "
            f"{SECTION_START!r}; found {len(seeded)}. Keep the seed on its own line."
        )
    code = [SEED_LINE.sub(f"seed = {seed}", src) for src in code]
    return [setup, switch, *code, REPORT_CELL]


def run_seed(seed: int, sources: list[str]) -> dict:
    """Run ``sources`` in a fresh kernel, full mode; return the histories and time."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.pop("S2S_QUICK", None)  # the kernel inherits the environment
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    started = time.perf_counter()
    NotebookClient(notebook, timeout=3600, kernel_name="python3").execute()
    seconds = time.perf_counter() - started
    for output in notebook.cells[-1].outputs:
        text = output.get("text", "")
        if text.startswith(MARKER):
            return {**json.loads(text[len(MARKER) :]), "seconds": seconds}
    raise RuntimeError(f"seed {seed}: the report cell printed no {MARKER!r} line")


def summarise(runs: dict[int, dict]) -> dict[str, dict[str, tuple[float, float]]]:
    """Per regime: (min, max) over seeds of the gap and accuracies per epoch."""
    first = next(iter(runs.values()))
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for name in first["histories"]:
        rows: dict[str, tuple[float, float]] = {}
        for epoch in range(first["epochs"]):
            for key in ("forced_accuracy", "free_accuracy", "free_exact", "gap"):
                values = [
                    _value(run["histories"][name], key, epoch) for run in runs.values()
                ]
                rows[f"{key} {epoch + 1}"] = (min(values), max(values))
        table[name] = rows
    return table


def _value(history: dict, key: str, epoch: int) -> float:
    if key == "gap":
        return (
            history["val_forced_accuracy"][epoch] - history["val_free_accuracy"][epoch]
        )
    return history[f"val_{key}"][epoch]


def orderings(runs: dict[int, dict], key: str, epoch: int) -> list[str]:
    """Per seed, the regimes from best to worst on ``key`` after ``epoch``."""
    return [
        " > ".join(
            sorted(
                run["histories"], key=lambda n: -_value(run["histories"][n], key, epoch)
            )
        )
        for run in runs.values()
    ]


def render(runs: dict[int, dict], loads: tuple[str, str]) -> str:
    table = summarise(runs)
    first = next(iter(runs.values()))
    epochs, seeds = first["epochs"], sorted(runs)
    lines = [
        "## Lesson claims",
        "",
        "### Lesson 06: exposure bias on running counts",
        "",
        f"Held-out token accuracy, min-max over seeds {', '.join(map(str, seeds))}, "
        f"full mode: {first['train_size']} training sequences of {first['length']} "
        f"bits, {first['val_size']} held out, {epochs} epochs. gap = teacher-forced "
        "minus free-running token accuracy (points of accuracy x 100).",
        "",
        "| regime | epoch | forced | free | gap (points) | free exact match |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in table.items():
        for epoch in range(1, epochs + 1):
            forced, free = (
                rows[f"forced_accuracy {epoch}"],
                rows[f"free_accuracy {epoch}"],
            )
            gap, exact = rows[f"gap {epoch}"], rows[f"free_exact {epoch}"]
            lines.append(
                f"| {name} | {epoch} | {forced[0]:.3f}-{forced[1]:.3f} | "
                f"{free[0]:.3f}-{free[1]:.3f} | {100 * gap[0]:.1f} to {100 * gap[1]:.1f} | "
                f"{exact[0]:.3f}-{exact[1]:.3f} |"
            )
    lines += ["", "Ranking by free-running token accuracy, per seed:", ""]
    for epoch in (0, epochs - 1):
        for seed, order in zip(seeds, orderings(runs, "free_accuracy", epoch)):
            lines.append(f"- epoch {epoch + 1}, seed {seed}: {order}")
    minutes = ", ".join(f"{runs[s]['seconds'] / 60:.1f}" for s in seeds)
    lines += [
        "",
        f"Minutes per seed (the section's cells, start-up included): {minutes}. "
        f"{reporting.cpu_model()}, nproc {os.cpu_count()}, Python "
        f"{platform.python_version()}, {datetime.date.today()}; load average (1, 5, "
        f"15 min) {loads[0]} at the start and {loads[1]} at the end (above the number "
        "of cores, the machine was shared and times are longer).",
        "",
        f"Reproduce: `{COMMAND}` (it rewrites this section).",
    ]
    return "\n".join(lines) + "\n"


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--json", type=Path, help="also save the raw histories here")
    args = parser.parse_args(argv)
    start_load = _load()
    sources = {seed: section_sources(seed) for seed in args.seeds}  # read once
    runs = {}
    for seed in args.seeds:
        runs[seed] = run_seed(seed, sources[seed])
        print(f"seed {seed}: {runs[seed]['seconds']:.0f} s, load {_load()}", flush=True)
    section = render(runs, (start_load, _load()))
    print(section)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    if not args.no_write:
        reporting.write_section(reporting.DOC, "Lesson claims", section)
    return 0
