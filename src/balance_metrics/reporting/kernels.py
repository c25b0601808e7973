"""Warm Jupyter kernels: execute many report notebooks in one kernel.

Starting a kernel and importing pandas, matplotlib and this library cost about
2.5 s, more than executing a school report once its data are loaded. A
:class:`WarmKernel` starts one kernel, imports the report stack in it once
(:func:`warm_up`), and then runs notebook after notebook through papermill —
parameters injected and recorded as usual, errors raised as
``PapermillExecutionError`` — with the kernel's state reset before each one
(:func:`reset_state`) so that a report never depends on the reports that ran
before it in the same kernel.

:func:`reset_state` runs inside the kernel and restores what a notebook can
change: the user namespace and output history (IPython ``reset``), the
execution counter (so cells are numbered from 1 as in a fresh kernel), the
current directory, ``os.environ``, ``sys.path``, warning filters, matplotlib's
``rcParams`` (and closes every figure), pandas' options and numpy's error and
print settings — each as it was right after :func:`warm_up`. Imported modules
stay imported: that is the point, and the library keeps no mutable state at
module level beyond caches of pure functions.

One kernel per worker process (per thread, if a Dask worker runs several
threads): :func:`process_kernel`. It is shut down when the process exits.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

__all__ = [
    "KERNEL_NAME", "WarmKernel", "prestart", "process_kernel", "reset_state", "shutdown_process_kernels", "warm_up",
]  # fmt: skip

#: Jupyter kernel the notebooks run in (``python -m ipykernel install --sys-prefix --name python3``).
KERNEL_NAME = "python3"
_KERNEL_START_TIMEOUT_S = 120
_CELL_TIMEOUT_S = 600
#: Modules imported into a new kernel before its first notebook.
WARM_MODULES: tuple[str, ...] = (
    "pandas", "numpy", "matplotlib", "matplotlib.pyplot",
    "balance_metrics.reporting.context", "balance_metrics.reporting.district_sections",
    "balance_metrics.reporting.school_sections", "balance_metrics.reporting.findings",
    "balance_metrics.reporting.provenance",
)  # fmt: skip

# --------------------------------------------------------------------------
# Inside the kernel
# --------------------------------------------------------------------------

_SNAPSHOT: dict[str, Any] = {}
_WARM_UP_CODE = "import balance_metrics.reporting.kernels as _bm_kernels\n_bm_kernels.warm_up()\ndel _bm_kernels"
_RESET_CODE = "import balance_metrics.reporting.kernels as _bm_kernels\n_bm_kernels.reset_state()"


def warm_up(modules: tuple[str, ...] = WARM_MODULES) -> None:
    """Import the report stack and remember the state :func:`reset_state` restores.

    Runs inside a kernel, once, before its first notebook.
    """
    import importlib
    import sys
    import warnings

    for name in modules:
        importlib.import_module(name)
    import matplotlib
    import numpy as np
    import pandas as pd

    from balance_metrics.reporting import plots

    plots.use_house_style()
    _SNAPSHOT.clear()
    _SNAPSHOT.update(
        cwd=os.getcwd(),
        environ=dict(os.environ),
        path=list(sys.path),
        warnings=list(warnings.filters),
        rc=dict(matplotlib.rcParams),
        numpy_err=np.geterr(),
        numpy_print=np.get_printoptions(),
        pandas=_pandas_options(pd),
    )


def _pandas_options(pd: Any) -> dict[str, Any]:
    import warnings

    options = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in pd._config.config._registered_options:  # noqa: SLF001 - the only full list of options
            try:
                options[key] = pd.get_option(key)
            except Exception:  # noqa: BLE001 - deprecated or removed options
                continue
    return options


def reset_state(execution_count: int = 1) -> None:
    """Put the kernel back into the state right after :func:`warm_up`.

    Runs inside the kernel before each notebook.

    Parameters
    ----------
    execution_count : int, default 1
        Number given to the next cell executed (as in a fresh kernel).
    """
    import sys
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from IPython import get_ipython

    if not _SNAPSHOT:
        warm_up()
    shell = get_ipython()
    if shell is not None:
        shell.reset(new_session=False)
        shell.execution_count = execution_count
    plt.close("all")
    os.chdir(_SNAPSHOT["cwd"])
    os.environ.clear()
    os.environ.update(_SNAPSHOT["environ"])
    sys.path[:] = _SNAPSHOT["path"]
    warnings.filters[:] = _SNAPSHOT["warnings"]
    warnings._filters_mutated()  # noqa: SLF001 - invalidate the per-module "once" registries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(_SNAPSHOT["rc"])
        for key, value in _SNAPSHOT["pandas"].items():
            try:
                pd.set_option(key, value)
            except Exception:  # noqa: BLE001 - read-only or deprecated options
                continue
    np.seterr(**_SNAPSHOT["numpy_err"])
    np.set_printoptions(**_SNAPSHOT["numpy_print"])


# --------------------------------------------------------------------------
# In the worker
# --------------------------------------------------------------------------


class WarmKernel:
    """One Jupyter kernel executing notebook after notebook.

    Parameters
    ----------
    cwd : str or os.PathLike
        The kernel's working directory (the notebooks' folder).
    kernel_name : str, default :data:`KERNEL_NAME`
    """

    def __init__(self, cwd: str | os.PathLike[str], kernel_name: str = KERNEL_NAME) -> None:
        self.cwd = str(Path(cwd).resolve())
        self.kernel_name = kernel_name
        self.km: Any = None
        self.kc: Any = None
        self.runs = 0

    def __repr__(self) -> str:
        state = "running" if self.alive else "stopped"
        return f"WarmKernel({self.kernel_name!r}, {state}, {self.runs} notebooks)"

    @property
    def alive(self) -> bool:
        """Started and not stopped (a kernel that died is restarted on the next failure)."""
        return self.km is not None

    def start(self) -> None:
        """Start the kernel and import the report stack in it."""
        self.shutdown()
        # nbclient starts the kernel and its client, as papermill would; every
        # later call goes through nbclient too (the client's sockets belong
        # to its event loop).
        client = self._client(_WARM_UP_CODE)
        try:
            client.execute(cleanup_kc=False, cwd=self.cwd)
        except BaseException:
            self.km, self.kc = client.km, client.kc
            self.shutdown()
            raise
        self.km, self.kc = client.km, client.kc

    def _client(self, code: str) -> Any:
        import nbformat
        from nbclient import NotebookClient

        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": self.kernel_name, "display_name": self.kernel_name, "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(code)]
        client = NotebookClient(
            nb, km=self.km, kernel_name=self.kernel_name, timeout=_KERNEL_START_TIMEOUT_S,
            startup_timeout=_KERNEL_START_TIMEOUT_S, resources={"metadata": {"path": self.cwd}},
            # The kernel warns on stderr that its local TCP sockets are not
            # encrypted; with dozens of kernels that buries the progress bar.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )  # fmt: skip
        client.kc = self.kc  # not a constructor argument
        return client

    def reset(self) -> None:
        """Reset the kernel's state (:func:`reset_state`) on its own."""
        self._client(_RESET_CODE).execute()

    def execute(self, notebook: str | os.PathLike[str], output: str | os.PathLike[str], parameters: dict[str, Any]) -> Any:
        """Execute ``notebook`` with ``parameters`` (papermill), writing ``output``.

        The kernel is reset by a first cell that is taken out of the executed
        notebook again (one round trip instead of two).

        Returns
        -------
        nbformat.NotebookNode
            The executed notebook.

        Raises
        ------
        papermill.PapermillExecutionError
            A cell raised (the kernel is kept: the next notebook resets it).
        Exception
            Anything else (time-out, dead kernel): the kernel is restarted
            before the next notebook.
        """
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        source = _notebook_with_reset(str(notebook))
        try:
            if not self.alive:
                self.start()
            self.runs += 1
            nb = papermill.execute_notebook(
                source,
                str(output),
                parameters=parameters,
                engine_name=_engine_name(),
                kernel_name=self.kernel_name,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=_KERNEL_START_TIMEOUT_S,
                execution_timeout=_CELL_TIMEOUT_S,
                km=self.km,
                kc=self.kc,
            )
        except PapermillExecutionError:
            if Path(output).is_file():
                nbformat.write(_without_reset(nbformat.read(output, as_version=4), notebook, output), str(output))
            raise
        except BaseException:
            self.shutdown()
            raise
        nb = _without_reset(nb, notebook, output)
        nbformat.write(nb, str(output))
        return nb

    def shutdown(self) -> None:
        """Stop the kernel (if running)."""
        km, kc = self.km, self.kc
        self.km = self.kc = None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        if km is not None:
            from jupyter_core.utils import run_sync

            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001
                pass


_RESET_TAG = "bm-kernel-reset"
_ENGINE = "balance-metrics-warm"


def _engine_name() -> str:
    """Register (once) and name the papermill engine that runs in a given kernel.

    papermill's nbclient engine accepts a kernel manager but not a client, so
    it would open new channels to the kernel for every notebook; this engine
    hands the warm kernel's client to papermill's notebook client.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False, stdout_file: Any = None,
                                     stderr_file: Any = None, start_timeout: int = 60, execution_timeout: Any = None,
                                     **kwargs: Any) -> Any:  # fmt: skip
            kc = kwargs.pop("kc")
            client = PapermillNotebookClient(
                nb_man, km=kwargs.pop("km"), timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
            )  # fmt: skip
            client.kc = kc
            return client.execute()

    if _ENGINE not in papermill_engines._engines:  # noqa: SLF001 - no public lookup
        papermill_engines.register(_ENGINE, WarmKernelEngine)
    return _ENGINE


def _notebook_with_reset(path: str) -> Any:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(_RESET_CODE, metadata={"tags": [_RESET_TAG]})
    cell["id"] = _RESET_TAG
    nb.cells.insert(0, cell)
    return nb


def _without_reset(nb: Any, notebook: str | os.PathLike[str], output: str | os.PathLike[str]) -> Any:
    nb.cells = [c for c in nb.cells if _RESET_TAG not in c.get("metadata", {}).get("tags", [])]
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["input_path"] = str(notebook)
        meta["output_path"] = str(output)
    return nb


_LOCAL = threading.local()
_ALL: list[WarmKernel] = []
_ALL_LOCK = threading.Lock()


def process_kernel(cwd: str | os.PathLike[str]) -> WarmKernel:
    """This thread's warm kernel for notebooks in ``cwd`` (started on first use)."""
    kernels: dict[str, WarmKernel] = getattr(_LOCAL, "kernels", None) or {}
    _LOCAL.kernels = kernels
    key = str(Path(cwd).resolve())
    kernel = kernels.get(key)
    if kernel is None:
        kernel = kernels[key] = WarmKernel(key)
        with _ALL_LOCK:
            if not _ALL:
                _register_shutdown()
            _ALL.append(kernel)
    return kernel


def prestart(cwd: str | os.PathLike[str]) -> int:
    """Start this thread's kernel now (a worker's first task), not with its first report.

    Returns
    -------
    int
        The process id (to see which workers were warmed).
    """
    kernel = process_kernel(cwd)
    if not kernel.alive:
        kernel.start()
    return os.getpid()


def shutdown_process_kernels() -> None:
    """Stop every warm kernel this process started."""
    with _ALL_LOCK:
        kernels = list(_ALL)
        _ALL.clear()
    for kernel in kernels:
        kernel.shutdown()
    _LOCAL.kernels = {}


def _register_shutdown() -> None:
    atexit.register(shutdown_process_kernels)
    # Worker processes of multiprocessing leave through os._exit, skipping
    # atexit; its finalizers still run.
    from multiprocessing import util

    util.Finalize(None, shutdown_process_kernels, exitpriority=10)
