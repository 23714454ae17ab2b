"""Python's cyclic garbage collector, run less often while a collection fans out."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Container allocations (net of frees) between two young-generation collections
# during a run; Python's default is 700.
YOUNG_THRESHOLD = 20_000


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect garbage cycles less often inside the block, and leave the objects that
    were alive before it (modules, botocore's service models) out of every scan.

    botocore allocates thousands of short-lived containers per API call, so the
    default thresholds run a young collection every few calls and a full one, which
    walks every object of the process, every few hundred: some 10-15% of a
    collection's CPU. Almost all of that garbage has no cycles and is freed by
    reference counting anyway; the cycles there are wait longer, not forever.
    The thresholds and the objects' generations are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
