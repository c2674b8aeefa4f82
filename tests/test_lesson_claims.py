"""``python -m benchmarks lesson_claims``: the cells it runs and the ranges it reports.

The measurement itself (full mode, several seeds) is too slow for a test; these
check that it runs the lesson's own cells with the seed changed, and that the
ranges and rankings it writes are the min-max and order of the seeds' values.
"""

import pytest

from benchmarks import lesson_claims


def test_section_is_the_lessons_own_code_with_the_seed_changed():
    sources = lesson_claims.section_sources(seed=7)
    assert sources[0].startswith("import s2s_helpers")  # the setup cell
    assert "JIT = " in sources[1]
    seeded = [s for s in sources if s.startswith("seed = ")]
    assert len(seeded) == 1 and seeded[0].startswith("seed = 7")
    assert any("regimes = {" in s for s in sources)
    assert not any("checkpoint_dir" in s for s in sources)  # the section ends there
    assert sources[-1] == lesson_claims.REPORT_CELL


def _run(forced, free):
    return {"val_forced_accuracy": forced, "val_free_accuracy": free,
            "val_free_exact": [0.0] * len(free)}  # fmt: skip


def test_ranges_are_min_max_over_seeds_and_rankings_per_seed():
    runs = {
        0: {"epochs": 2, "histories": {"a": _run([0.9, 1.0], [0.5, 0.9]),
                                       "b": _run([0.8, 0.9], [0.7, 0.95])}},
        1: {"epochs": 2, "histories": {"a": _run([0.7, 1.0], [0.6, 0.99]),
                                       "b": _run([0.8, 0.9], [0.5, 0.8])}},
    }  # fmt: skip
    table = lesson_claims.summarise(runs)
    assert table["a"]["gap 1"] == pytest.approx((0.1, 0.4))
    assert table["a"]["free_accuracy 2"] == (0.9, 0.99)
    assert table["b"]["forced_accuracy 1"] == (0.8, 0.8)
    assert lesson_claims.orderings(runs, "free_accuracy", 0) == ["b > a", "a > b"]
