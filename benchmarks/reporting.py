"""docs/BENCHMARKS.md: each benchmark's section replaced in place, and the machine.

Every benchmark writes its own ``## Section`` (and the applications benchmark
one ``### Subsection`` per task) through these functions; the other sections
are kept as they are. Light: TensorFlow is imported only by ``machine``.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict:
    """What the numbers were measured on (threads: 0 means TensorFlow's default)."""
    import keras
    import tensorflow as tf

    return {
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "date": datetime.date.today().isoformat(),
    }


def write_section(path: Path, title: str, section: str) -> None:
    """Replace (or add) the ``## title`` section of ``path``, keeping the others."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(
        rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def write_subsection(
    path: Path, title: str, intro: str, subtitle: str, lines: list[str], order
) -> None:
    """Replace (or add) the ``### subtitle`` subsection of the ``## title`` section.

    Args:
        intro: the section's first paragraph, written when the section is new.
        lines: the subsection, its ``### subtitle`` line first.
        order: every subtitle of the section in document order: a new
            subsection goes before the first later one already there.
    """
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    heading = f"## {title}\n"
    section = re.compile(rf"^{re.escape(heading)}.*?(?=^## |\Z)", re.M | re.S)
    match = section.search(text)
    if match is None:
        text = text.rstrip("\n") + "\n\n" + heading + "\n" + intro + "\n\n"
        match = section.search(text)
    body, block = match.group(0), "\n".join(lines)
    pattern = re.compile(rf"^### {re.escape(subtitle)}\n.*?(?=^### |\Z)", re.M | re.S)
    if pattern.search(body):
        body = pattern.sub(lambda _: block + "\n", body)
    else:
        order = list(order)
        later = [t for t in order[order.index(subtitle) + 1 :] if f"### {t}" in body]
        if later:
            position = body.index(f"### {later[0]}")
            body = body[:position] + block + "\n" + body[position:]
        else:
            body = body.rstrip("\n") + "\n\n" + block + "\n"
    text = text[: match.start()] + body + text[match.end() :]
    path.write_text(text.rstrip("\n") + "\n")
