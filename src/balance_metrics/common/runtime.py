"""Process settings that must be made before numpy is first imported.

numpy asks the kernel for transparent huge pages on every large array
(``madvise``). Where the kernel's huge-page policy is ``madvise`` (as on our
2-core Linux machines), each fresh 1–2 M-row column then costs a page fault
with zeroing and compaction of 2 MB pages: measured on a 200,000-section
period, the first ``evaluate`` in a new process took 9.3 s with huge pages and
5.3 s without, ``load_period`` 5.0 s and 3.0–3.5 s (``docs/performance.md``).
Our arrays are short-lived, so the huge pages never pay back their set-up.

Only a default: a user who sets ``NUMPY_MADVISE_HUGEPAGE`` keeps their value,
and if numpy was imported before balance_metrics the setting has no effect
(numpy reads it once, at import). Worker processes inherit it.
"""

from __future__ import annotations

import os
import sys

HUGEPAGE_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"


def prefer_small_pages() -> bool:
    """Default ``NUMPY_MADVISE_HUGEPAGE=0`` while numpy is not yet imported.

    Returns
    -------
    bool
        True if the setting will take effect in this process.
    """
    if "numpy" in sys.modules:
        return False
    os.environ.setdefault(HUGEPAGE_VARIABLE, "0")
    return True
