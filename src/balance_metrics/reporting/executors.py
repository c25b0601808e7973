"""Run a batch's report tasks: in this process, a process pool or a Dask cluster.

:func:`run_tasks` hands every :class:`~balance_metrics.reporting.tasks.ReportTask`
to :func:`~balance_metrics.reporting.render.render_one` wherever the executor
runs it, shows one progress bar, and turns a worker that died into a failed
report instead of a failed batch. ``render_one`` writes every file atomically
itself, so the executor needs no clean-up.

* ``"processes"`` — a pool of ``jobs`` worker processes on this machine
  (``jobs=1``: this process); each keeps a warm kernel.
* ``"dask"`` — a Dask distributed cluster: the scheduler at ``scheduler``
  (``tcp://host:8786``), or a ``LocalCluster`` of ``jobs`` single-threaded
  worker processes when no address is given. Inputs, outputs and the batch's
  context and font files must be on storage every worker machine sees under
  the same path.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

from balance_metrics.reporting.render import error_text
from balance_metrics.reporting.tasks import ReportTask, failed_row

__all__ = ["EXECUTORS", "run_tasks"]

#: Executor names accepted by :func:`run_tasks`.
EXECUTORS: tuple[str, ...] = ("processes", "dask")

Runner = Callable[[ReportTask], dict[str, Any]]


def run_tasks(
    tasks: list[ReportTask],
    runner: Runner,
    *,
    executor: str = "processes",
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Render ``tasks`` with ``runner`` on ``executor``; one row per task.

    Parameters
    ----------
    tasks : list of ReportTask
    runner : callable
        ``render_one`` (or a test double); must be importable by workers.
    executor : {"processes", "dask"}, default "processes"
    jobs : int, default 1
        Worker processes (process pool, or the workers of a LocalCluster).
    scheduler : str, optional
        Address of a running Dask scheduler (only with ``executor="dask"``).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    list of dict
        Rows in completion order.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    if scheduler and executor != "dask":
        raise ValueError("a scheduler address needs executor='dask'")
    if not tasks:
        return []
    with _bar(len(tasks), progress) as bar:
        if executor == "dask":
            return _run_dask(tasks, runner, jobs, scheduler, bar)
        if jobs == 1:
            rows = []
            for task in tasks:
                rows.append(runner(task))
                bar.update()
            return rows
        return _run_pool(tasks, runner, jobs, bar)


@contextmanager
def _bar(total: int, progress: bool | None) -> Iterator[Any]:
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="生成报告", unit="份", disable=progress is False if progress is not None else None, file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()


def _run_pool(tasks: list[ReportTask], runner: Runner, jobs: int, bar: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # "spawn": workers start clean instead of inheriting the parent's
    # threads (tqdm's monitor) and open files through fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(runner, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    rows.append(future.result())
                except Exception as error:  # noqa: BLE001 - a crashed worker fails its report only
                    rows.append(failed_row(futures[future], error_text(error)))
                bar.update()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return rows


@contextmanager
def _dask_client(jobs: int, scheduler: str | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:  # pragma: no cover - dask is a dependency
        raise ImportError("executor 'dask' needs the packages dask and distributed (pip install 'dask[distributed]')") from error
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    # One thread per worker process: a report is CPU-bound Python, and each
    # worker keeps one warm kernel.
    with LocalCluster(
        n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    ) as cluster, Client(cluster) as client:
        yield client


def _run_dask(tasks: list[ReportTask], runner: Runner, jobs: int, scheduler: str | None, bar: Any) -> list[dict[str, Any]]:
    from distributed import as_completed as dask_completed

    rows: list[dict[str, Any]] = []
    with _dask_client(jobs, scheduler) as client:
        futures = {}
        for task in tasks:
            # Readable keys in the dashboard; pure=False: a rerun renders again.
            future = client.submit(runner, task, key=f"report-{task.period}-{task.stem}-{id(task):x}", pure=False, retries=0)
            futures[future.key] = (future, task)
        try:
            for future in dask_completed([f for f, _ in futures.values()]):
                task = futures[future.key][1]
                try:
                    rows.append(future.result())
                except Exception as error:  # noqa: BLE001 - a lost worker or task fails its report only
                    rows.append(failed_row(task, error_text(error)))
                bar.update()
        except BaseException:
            client.cancel([f for f, _ in futures.values()])
            raise
    return rows
