"""Run a batch's report tasks: in this process, a process pool or a Dask cluster.

:class:`Workers` (or :func:`run_tasks`) hands every
:class:`~balance_metrics.reporting.tasks.ReportTask` to
:func:`~balance_metrics.reporting.render.render_one` wherever the executor runs
it, shows one progress bar, and turns a worker that died into a failed report
instead of a failed batch. Workers start their kernels as soon as they exist. ``render_one`` writes every file atomically
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
from contextlib import ExitStack, contextmanager
from typing import Any

from balance_metrics.reporting.kernels import prestart
from balance_metrics.reporting.render import error_text
from balance_metrics.reporting.tasks import ReportTask, failed_row

__all__ = ["EXECUTORS", "Workers", "run_tasks"]

#: Executor names accepted by :class:`Workers` and :func:`run_tasks`.
EXECUTORS: tuple[str, ...] = ("processes", "dask")

Runner = Callable[[ReportTask], dict[str, Any]]


class Workers:
    """Where a batch's reports render; started early, so that workers and their
    kernels warm up while this process evaluates the period.

    Parameters
    ----------
    executor : {"processes", "dask"}, default "processes"
    jobs : int, default 1
        Worker processes (process pool, or the workers of a LocalCluster).
        ``jobs=1`` with "processes" renders in this process.
    scheduler : str, optional
        Address of a running Dask scheduler (only with ``executor="dask"``).
    warm : str or os.PathLike, optional
        The notebooks' folder: each worker starts its kernel right away.

    Examples
    --------
    >>> with Workers("processes", jobs=2, warm=notebook_dir()) as workers:  # doctest: +SKIP
    ...     ...                                # evaluate, write the context file
    ...     rows = workers.run(tasks, render_one)
    """

    def __init__(self, executor: str = "processes", jobs: int = 1, scheduler: str | None = None, warm: Any = None) -> None:
        if executor not in EXECUTORS:
            raise ValueError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
        if scheduler and executor != "dask":
            raise ValueError("a scheduler address needs executor='dask'")
        self.executor, self.jobs, self.scheduler, self.warm = executor, jobs, scheduler, warm
        self._stack = ExitStack()
        self._pool: Any = None
        self._client: Any = None
        self._warming: list[Any] = []

    def __repr__(self) -> str:
        return f"Workers({self.executor!r}, jobs={self.jobs}, scheduler={self.scheduler!r})"

    def __enter__(self) -> Workers:
        try:
            if self.executor == "dask":
                self._client = self._stack.enter_context(_dask_client(self.jobs, self.scheduler))
                if self.warm is not None:
                    for address in self._client.scheduler_info()["workers"]:
                        self._warming.append(self._client.submit(prestart, str(self.warm), workers=[address], pure=False,
                                                                 key=f"prestart-{address}"))  # fmt: skip
            elif self.jobs > 1:
                # "spawn": workers start clean instead of inheriting the parent's
                # threads (tqdm's monitor) and open files through fork.
                self._pool = self._stack.enter_context(
                    ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"))
                )
                if self.warm is not None:
                    self._warming = [self._pool.submit(prestart, str(self.warm)) for _ in range(self.jobs)]
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._stack.close()

    def run(self, tasks: list[ReportTask], runner: Runner, progress: bool | None = None) -> list[dict[str, Any]]:
        """Render ``tasks`` with ``runner``; one row per task, in completion order."""
        if not tasks:
            return []
        with _bar(len(tasks), progress) as bar:
            if self._client is not None:
                return _run_dask(self._client, tasks, runner, bar)
            if self._pool is not None:
                return _run_pool(self._pool, tasks, runner, bar)
            rows = []
            for task in tasks:
                rows.append(runner(task))
                bar.update()
            return rows


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
    if not tasks:
        return []
    with Workers(executor, jobs, scheduler) as workers:
        return workers.run(tasks, runner, progress)


@contextmanager
def _bar(total: int, progress: bool | None) -> Iterator[Any]:
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="生成报告", unit="份", disable=progress is False if progress is not None else None, file=sys.stderr)
    try:
        yield bar
    finally:
        bar.close()


def _run_pool(pool: ProcessPoolExecutor, tasks: list[ReportTask], runner: Runner, bar: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    futures = {pool.submit(runner, task): task for task in tasks}
    try:
        for future in as_completed(futures):
            try:
                rows.append(future.result())
            except Exception as error:  # noqa: BLE001 - a crashed worker fails its report only
                rows.append(failed_row(futures[future], error_text(error)))
            bar.update()
    except BaseException:
        for future in futures:
            future.cancel()
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


def _run_dask(client: Any, tasks: list[ReportTask], runner: Runner, bar: Any) -> list[dict[str, Any]]:
    from distributed import as_completed as dask_completed

    rows: list[dict[str, Any]] = []
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
