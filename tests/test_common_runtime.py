"""balance_metrics.common.runtime: numpy's huge pages are off by default, never against the user."""

import os
import subprocess
import sys

PROBE = (
    "import os, balance_metrics, numpy._core.multiarray as m; "
    "print(os.environ.get('NUMPY_MADVISE_HUGEPAGE'), m._get_madvise_hugepage())"
)


def _run(code: str, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"} | env
    out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_package_first_turns_numpy_huge_pages_off():
    assert _run(PROBE) == "0 False"


def test_a_users_setting_is_kept():
    assert _run(PROBE, NUMPY_MADVISE_HUGEPAGE="1") == "1 True"


def test_numpy_imported_first_is_left_alone():
    assert _run("import numpy; " + PROBE) == "None True"
