"""Python's cyclic garbage collector, run less often (a collection), not at all (a check),
and not over the objects a command leaves behind when its process ends.

Both are batch work that allocates millions of short-lived objects, nearly all freed
by reference counting; the collector would mostly walk live objects again and again.
"""

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
    reference counting anyway; the cycles there wait longer, not forever.
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


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (a check, which ends soon after).

    A check over thousands of accounts allocates millions of short-lived objects
    beside a few large long-lived ones (the results, the inventory the fixes read),
    and the collector walks the long-lived ones again and again: a fifth of a large
    check's time. The few cycles a check makes go when the command ends; unlike a
    collection, a check does not run for long.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def spare_at_exit() -> None:
    """Leave the objects alive now out of the collection Python runs at exit.

    Finalising the interpreter ends with a full collection over every object still
    alive: after a large check (tens of thousands of results, the compiled patterns)
    about half a second spent finding cycles in memory the operating system takes back
    anyway. Only for the end of a process: cfgmon closes its databases and files
    itself, and the interpreter still flushes its standard streams and runs atexit.
    """
    gc.freeze()
