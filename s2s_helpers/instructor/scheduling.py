"""Where notebooks are graded: a local process pool, or a Dask cluster.

Every (student, notebook) is one task (``grading.Task``, run by
``grading.run_task``). Without options the tasks run on a local pool of
``-j N`` processes (no Dask needed). With ``--scheduler ADDRESS`` they go to a
running Dask distributed cluster whose workers have the course installed
(each sandboxes its own kernels); ``--scheduler local`` starts a
``LocalCluster`` of ``-j N`` single-threaded workers on this machine. Results
come back to the one process that writes the records, so an interrupted run
resumes the same way on either.

Only a window of tasks is in flight at a time (twice the workers), so the
grader holds a bounded number of parsed notebooks whatever the class size.

Used by: s2s-course grade (docs/INSTRUCTORS.md)
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
from typing import Iterable, Iterator

from s2s_helpers.instructor.grading import Task, run_task


class LocalPool:
    """``jobs`` worker processes on this machine (``concurrent.futures``)."""

    def __init__(self, jobs: int) -> None:
        self.workers = max(1, jobs)
        self.executor = concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn")
        )

    def submit(self, task: Task):
        return self.executor.submit(run_task, task)

    def wait_any(self, futures: list) -> set:
        done, _ = concurrent.futures.wait(
            futures, return_when=concurrent.futures.FIRST_COMPLETED
        )
        return done

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """A Dask distributed cluster: ``"local"`` (a ``LocalCluster``) or an address."""

    def __init__(self, scheduler: str, jobs: int) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as error:
            raise RuntimeError(
                "--scheduler needs Dask: pip install 'dask[distributed]' "
                f"(or the course's grading extra); {error}"
            ) from None
        self.cluster = None
        if scheduler == "local":
            self.cluster = LocalCluster(
                n_workers=max(1, jobs),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler, timeout="30s")
        self.workers = max(1, sum(self.client.nthreads().values()))

    def submit(self, task: Task):
        return self.client.submit(run_task, task, pure=False)

    def wait_any(self, futures: list) -> set:
        from dask.distributed import wait

        return set(wait(futures, return_when="FIRST_COMPLETED").done)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_pool(jobs: int, scheduler: str | None):
    """The pool that runs the tasks: local processes, or Dask with ``scheduler``."""
    return LocalPool(jobs) if scheduler is None else DaskPool(scheduler, jobs)


def run_all(pool, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict | Exception]]:
    """Run every task on ``pool``; yield (task, its result or its exception).

    At most twice the pool's workers are in flight, and ``tasks`` is consumed
    lazily, so it may read notebooks as they are needed.
    """
    tasks = iter(tasks)
    window = 2 * pool.workers
    in_flight: dict = {}
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < window:
            task = next(tasks, None)
            if task is None:
                exhausted = True
            else:
                in_flight[pool.submit(task)] = task
        if not in_flight:
            return
        for future in pool.wait_any(list(in_flight)):
            task = in_flight.pop(future)
            try:
                yield task, future.result()
            except Exception as error:  # a grader failure must not stop the class
                yield task, error
