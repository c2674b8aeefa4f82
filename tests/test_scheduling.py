"""Scheduling: a bounded window of tasks; Dask grades to the local pool's table."""

import concurrent.futures

import pytest
from gradingtools import (
    LESSON,
    LIMITS,
    NAME,
    SOLUTION,
    needs_sandbox,
    notebook,
    read_grades,
    write_submissions,
)

from s2s_helpers.instructor import classroom, scheduling


class RecordingPool:
    """Runs tasks at once in this process; remembers how many were in flight."""

    workers = 2

    def __init__(self):
        self.in_flight, self.most = 0, 0

    def submit(self, task):
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        future = concurrent.futures.Future()
        if task == "boom":
            future.set_exception(RuntimeError("worker lost"))
        else:
            future.set_result(task * 10)
        return future

    def wait_any(self, futures):
        done = {futures[0]}
        self.in_flight -= len(done)
        return done


def test_run_all_keeps_a_bounded_window_and_reports_failures():
    pool = RecordingPool()
    consumed = []

    def tasks():
        for task in [1, 2, "boom", 3, 4, 5, 6]:
            consumed.append(task)
            yield task

    outcomes = scheduling.run_all(pool, tasks())
    first = next(outcomes)
    assert first == (1, 10) and len(consumed) == 2 * pool.workers  # lazy
    rest = list(outcomes)
    assert pool.most == 2 * pool.workers
    results = dict([first] + [(t, r) for t, r in rest if t != "boom"])
    assert results == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50, 6: 60}
    [(_, error)] = [(t, r) for t, r in rest if t == "boom"]
    assert isinstance(error, RuntimeError)


CLASS = {
    "perfect": ({NAME: SOLUTION},),
    "untouched": ({NAME: LESSON},),
    "wrong": (
        {NAME: notebook(exercise_0_2="def padding_mask(ids):\n    return ids == 0")},
    ),
}


@pytest.mark.slow
@pytest.mark.timeout(600)
@needs_sandbox
def test_dask_local_cluster_grades_the_same_table_as_the_local_pool(tmp_path):
    write_submissions(tmp_path / "submissions", CLASS)
    tables = {}
    for name, scheduler in [("pool", None), ("dask", "local")]:
        summary = classroom.grade_submissions(
            tmp_path / "submissions",
            tmp_path / name,
            jobs=2,
            scheduler=scheduler,
            limits=LIMITS,
            progress=False,
        )
        assert summary["incomplete"] == [], (name, summary)
        tables[name] = read_grades(tmp_path / name)
    assert tables["pool"] == [
        ["student", "0.1", "0.2", "total"],
        ["perfect", "2", "2", "4"],
        ["untouched", "0", "0", "0"],
        ["wrong", "2", "0", "2"],
    ]
    assert tables["dask"] == tables["pool"]
