"""Timers for benchmarks that compare two implementations on one shared machine.

Both sides are timed in alternating rounds, so that a slow drift of the
machine's load falls on both, and compared by the median of per-round ratios.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass


@dataclass
class Timing:
    """Wall and process CPU seconds of one timed block, and what it processed."""

    wall: float
    cpu: float
    items: float


def timed(block) -> Timing:
    """Run ``block()`` (which returns the number of items it processed) and time it."""
    wall, cpu = time.perf_counter(), time.process_time()
    items = block()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, items)


def alternate(rounds: int, *blocks) -> tuple[list[Timing], ...]:
    """Time every block ``rounds`` times, in A B B A A B ... order (A B C C B A
    ... for three).

    Alternating cancels slow drifts of the machine's load between them.
    """
    timings: tuple[list[Timing], ...] = tuple([] for _ in blocks)
    for number in range(rounds):
        order = range(len(blocks)) if number % 2 == 0 else reversed(range(len(blocks)))
        for side in order:
            timings[side].append(timed(blocks[side]))
    return timings


def median(values) -> float:
    return float(statistics.median(values))


def rate(timing: Timing) -> float:
    return timing.items / timing.wall


def round_ratios(fast: list[Timing], slow: list[Timing]) -> list[float]:
    """(fast items/s) / (slow items/s) of each round, rounds paired."""
    return [rate(a) / rate(b) for a, b in zip(fast, slow)]


def ratio_of_rates(fast: list[Timing], slow: list[Timing]) -> float:
    """Median over rounds of (fast items/s) / (slow items/s), rounds paired."""
    return median(round_ratios(fast, slow))
