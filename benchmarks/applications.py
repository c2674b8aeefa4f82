"""Full-mode results of the application lessons 08-10: translation, dialogue, speech.

Each task runs its solution notebook top to bottom in full mode (``S2S_QUICK``
unset), exactly as a learner would, then reads the numbers the notebook
computed (held-out BLEU/chrF, dialogue metrics, CER/WER, training time). They
are printed and written to the "## Applications" section of
docs/BENCHMARKS.md, one subsection per task (other sections are left as they
are).

    python -m benchmarks applications                      # all three tasks
    python -m benchmarks applications speech --no-write    # one task, print only
    python -m benchmarks applications translation --keep /tmp/executed

Expect about 15 minutes per task on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

from benchmarks import reporting

ROOT = Path(__file__).resolve().parents[1]
COMMAND = "python -m benchmarks applications"

# The notebook variables that hold each task's results, read after the run.
REPORT_CELL = {
    "translation": """{
    "train_pairs": len(train_pairs), "test_pairs": len(test_pairs),
    "test_chapters": len({(p.book, p.chapter) for p in test_pairs}),
    "max_words": MAX_WORDS, "subwords": [src_pieces.size, tgt_pieces.size],
    "epochs": epochs, "steps": int(trainer.step.numpy()), "best_epoch": plateau.best_epoch,
    "training_seconds": training_seconds, "time_budget": TIME_BUDGET,
    "epoch_seconds": trainer.epoch_seconds, "xla_choice": trainer.xla_choice, "units": units,
    "results": {m: list(v) for m, v in results.items()},
    "side": {str(k): list(v) for k, v in side.items()}, "side_seconds": SIDE_SECONDS,
}""",
    "dialogue": """{
    "train_pairs": len(pairs["train"]), "test_pairs": len(pairs["test"]),
    "test_conversations": len(splits["test"]), "epochs": epochs,
    "training_seconds": training_seconds, "train_accuracy": history["accuracy"][-1],
    "val_accuracy": history["val_accuracy"][-1],
    "results": {name: {k: float(v) for k, v in row.items()} for name, row in results.items()},
}""",
    "speech": """{
    "train_utterances": len(train_examples), "test_utterances": len(test_examples),
    "epochs": epochs, "training_seconds": training_seconds,
    "units": model.units, "downsampling_layers": model.downsampling_layers,
    "results": {name: list(v) for name, v in results.items()},
}""",
}
NOTEBOOKS = {
    "translation": "08_translation.ipynb",
    "dialogue": "09_dialogue.ipynb",
    "speech": "10_speech.ipynb",
}
TITLES = {
    "translation": "Translation, English to Spanish (lesson 08)",
    "dialogue": "Dialogue (lesson 09)",
    "speech": "Speech recognition (lesson 10)",
}
MARKER = "S2S_APPS_REPORT "
INTRO = (
    "Full-mode runs of the solution notebooks of lessons 08-10 (without "
    "`S2S_QUICK`), with the numbers each lesson states. Times are wall-clock; a "
    "load average above the number of cores means other work shared them, so the "
    "times are upper bounds."
)


def run_notebook(task: str, keep: Path | None) -> dict:
    """Execute a solution notebook in full mode; return its report and timings."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.pop("S2S_QUICK", None)  # the kernel inherits the environment
    notebook = nbformat.read(ROOT / "solutions" / NOTEBOOKS[task], as_version=4)
    report = (
        "import json\nprint("
        + repr(MARKER)
        + " + json.dumps("
        + REPORT_CELL[task]
        + "))"
    )
    notebook.cells.append(nbformat.v4.new_code_cell(report))
    client = NotebookClient(notebook, timeout=3600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})  # fmt: skip
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, keep / NOTEBOOKS[task])
    seconds = time.perf_counter() - started
    text = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    report = json.loads(text.split(MARKER, 1)[1])
    report.update(notebook_seconds=seconds, load_before=load_before,
                  load_after=os.getloadavg()[0])  # fmt: skip
    return report


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def _translation_targets(report: dict) -> str:
    """The course's targets for lesson 08, each said met or not, with the numbers."""
    (greedy, *_), (beam, *_) = report["results"].values()
    minutes = report["training_seconds"] / 60
    bleu_met = max(greedy, beam) >= 25 and minutes <= 10
    gain_met = beam >= greedy + 1
    return (
        f"Targets: at least 25 BLEU on the held-out chapters after at most 10 "
        f"minutes of training: {'met' if bleu_met else 'not met'} (beam "
        f"{beam:.2f}, greedy {greedy:.2f}, after {minutes:.1f} min); beam at "
        f"least 1 BLEU above greedy: {'met' if gain_met else 'not met'} "
        f"({beam - greedy:+.2f})."
    )


def section_lines(task: str, report: dict, machine: str) -> list[str]:
    results = report["results"]
    lines = [f"### {TITLES[task]}", ""]
    if task == "translation":
        lines += ["| decoding | BLEU | chrF |", "|---|---|---|"]
        for method, (bleu, chrf, _) in results.items():
            name = "beam search, width 4" if method == "beam" else method
            lines.append(f"| {name} | {bleu:.2f} | {chrf:.2f} |")
        lines += ["", (
            f"World English Bible to Reina-Valera 1909, verse pairs of at most "
            f"{report['max_words']} words on both sides; {report['test_pairs']} "
            f"held-out verses from {report['test_chapters']} whole chapters never "
            "seen in training. SentencePiece unigram vocabularies of "
            f"{report['subwords'][0]} (English) and {report['subwords'][1]} (Spanish) "
            "pieces; scored with sacrebleu (its default 13a tokenisation) on "
            "normalised text (lower case, accents stripped). Bidirectional GRU of "
            f"{report['units']} units, [output; context] output layer, trained on "
            f"{report['train_pairs']} pairs with a time budget of "
            f"{report['time_budget']} s: {report['steps']} steps, "
            f"{report['epochs']} epochs, {_minutes(report['training_seconds'])} min "
            f"of training ({report['training_seconds']:.1f} s; by epoch: "
            f"{', '.join(f'{x:.1f}' for x in report['epoch_seconds'])} s), the "
            f"weights of epoch {report['best_epoch']} (best validation loss) kept. "
            f"{report['xla_choice']}"
        ), ""]  # fmt: skip
        lines += [
            f"The lesson's side-by-side, each variant trained for "
            f"{report['side_seconds']} s from the same initial weights, greedy BLEU "
            "on the first 200 test verses:", "",
            "| output layer reads | steps | validation loss | greedy BLEU |",
            "|---|---|---|---|",
        ]  # fmt: skip
        for context, (steps, val_loss, bleu) in report["side"].items():
            name = "[output; context]" if context == "True" else "output alone"
            lines.append(f"| {name} | {steps} | {val_loss:.3f} | {bleu:.2f} |")
        lines += ["", _translation_targets(report)]
    elif task == "dialogue":
        keys = list(next(iter(results.values())))
        lines += ["| replies | " + " | ".join(keys) + " |",
                  "|---" * (len(keys) + 1) + "|"]  # fmt: skip
        for name, row in results.items():
            values = [f"{row[k]:.2f}" if k in ("BLEU", "chrF") else f"{row[k]:.3f}"
                      for k in keys]  # fmt: skip
            lines.append(f"| {name} | " + " | ".join(values) + " |")
        lines += ["", (
            "chatterbot-corpus with duplicate conversations removed, "
            f"{report['test_pairs']} (prompt, reply) pairs from "
            f"{report['test_conversations']} held-out conversations. exact: exact "
            "match with the held-out reply; copied: share of replies found verbatim "
            "among the training replies; top reply: share of prompts given the single "
            f"most common reply. Trained on {report['train_pairs']} pairs, "
            f"{report['epochs']} epochs (final token accuracy "
            f"{report['train_accuracy']:.2f} on training, "
            f"{report['val_accuracy']:.2f} on validation): "
            f"{_minutes(report['training_seconds'])} min of training."
        )]  # fmt: skip
    else:
        lines += ["| test set | decoding | CER | WER |", "|---|---|---|---|"]
        for name, (cer, wer) in results.items():
            voices, method = name.split(", ")
            lines.append(f"| {voices} | {method} | {cer:.4f} | {wer:.4f} |")
        lines += ["", (
            f"eSpeak NG phrases (numbers, dates, times, commands); "
            f"{report['test_utterances']} test utterances per test set, with voices "
            "en+m6, en+m7, en+f4, en+f5 held out of training. Trained on "
            f"{report['train_utterances']} utterances, {report['epochs']} epochs, "
            f"{2 ** report['downsampling_layers']}x downsampling, {report['units']} "
            f"units: {_minutes(report['training_seconds'])} min of training."
        )]  # fmt: skip
    lines += ["", (
        f"Whole notebook {_minutes(report['notebook_seconds'])} min; {machine}, "
        f"load average {report['load_before']:.1f} at the start and "
        f"{report['load_after']:.1f} at the end, "
        f"{datetime.date.today().isoformat()}. Reproduce: `{COMMAND} {task}`."
    ), ""]  # fmt: skip
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument(
        "tasks", nargs="*", help=f"some of {list(NOTEBOOKS)} (default: all)"
    )
    parser.add_argument("--no-write", action="store_true", help="only print")
    parser.add_argument("--keep", type=Path, help="save the executed notebooks here")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tasks) - set(NOTEBOOKS))
    if unknown:
        parser.error(f"unknown task(s) {unknown}; choose from {list(NOTEBOOKS)}")
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )
    machine = (
        f"{reporting.cpu_model()}, {cores} cores, Python {platform.python_version()}"
    )
    for task in args.tasks or list(NOTEBOOKS):
        print(f"running {NOTEBOOKS[task]} in full mode ...", flush=True)
        report = run_notebook(task, args.keep)
        lines = section_lines(task, report, machine)
        print("\n".join(lines))
        print(json.dumps(report, indent=1), flush=True)
        if not args.no_write:
            reporting.write_subsection(
                reporting.DOC,
                "Applications",
                INTRO,
                TITLES[task],
                lines,
                TITLES.values(),
            )
            print(f"updated docs/BENCHMARKS.md (## Applications, {TITLES[task]})")
    return 0
