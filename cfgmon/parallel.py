"""Pure-Python work over many items spread over the machine's cores by forking.

A check's per-result Python work (planning and rendering tens of thousands of fixes)
runs while DuckDB sits idle, on one core of several. A forked child inherits the
parent's memory as it is (the inventory, the results, the compiled catalogue), so
nothing has to be pickled on the way in; only each child's answers come back,
pickled through a pipe.

Where fork is taken: Linux only (decided). macOS's system libraries are not safe
to use in a forked child of a threaded process, and Windows has no fork; there
the work runs in this process, as it does for a few items. A child runs pure
Python on what it inherited and never touches DuckDB (whose threads a fork does
not copy), and it leaves with os._exit: no atexit handler, no flush of the
parent's buffered output, no destructor of an inherited connection runs in it.

A child that fails in any way (killed, an exception, an answer that does not
unpickle) costs only time: its share is worked again in this process, so the
answers, and any exception they raise, are exactly those of a serial run.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")

# Fewer items than this per core are worked in this process: forking a process of
# a gigabyte or more costs some milliseconds, and a share must outweigh it.
MIN_ITEMS_PER_CORE = 1000


def usable_cores() -> int:
    """The cores this process may run on (its scheduler affinity, else all of them)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def map_forked(work: Callable[[Sequence[Item]], list[Answer]], items: Sequence[Item], *,
               cores: int | None = None,
               in_child: Callable[[], None] | None = None) -> list[Answer]:
    """work(items), in contiguous shares worked at once by forked children and this
    process; the answers in the order of `items`.

    `work` takes a share (a slice of `items`) and returns one answer per item; it must
    not write anything anyone else sees (files, the database): a child's writes and
    state are lost with it. `in_child` runs first in each child (to cut it off from
    what it must not use: an inventory's database connection, say).
    """
    cores = usable_cores() if cores is None else cores
    shares = max(1, min(cores, len(items) // MIN_ITEMS_PER_CORE))
    if shares == 1 or not can_fork():
        return work(items)
    size = -(-len(items) // shares)  # ceiling: every item in exactly one share
    bounds = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    children = []
    try:
        for start, end in bounds[1:]:
            children.append(_fork(work, items[start:end], in_child))
        answers = work(items[bounds[0][0]:bounds[0][1]])
        for (start, end), child in zip(bounds[1:], list(children), strict=True):
            children.remove(child)
            got = _collect(child)
            answers += got if got is not None and len(got) == end - start else \
                work(items[start:end])
        return answers
    finally:
        # an exception here (Ctrl-C, a share that fails): no child is left behind
        for child in children:
            _abandon(child)


def _fork(work: Callable, share: Sequence, in_child: Callable[[], None] | None
          ) -> tuple[int, int] | None:
    """(pid, the pipe's read end) of a child working `share`; None if none could start."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns of forking a process with threads (DuckDB's): the child
            # here never uses what those threads guard (see the module's docstring)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        return None
    if pid:
        os.close(write)
        return pid, read
    # the child: answer through the pipe, then leave at once, whatever happens
    status = 1
    try:
        os.close(read)
        if in_child is not None:
            in_child()
        with os.fdopen(write, "wb") as out:
            pickle.dump(work(share), out, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        os._exit(status)


def _abandon(child: tuple[int, int] | None) -> None:
    """Stop a child whose answers are no longer wanted, and reap it."""
    if child is None:
        return
    pid, read = child
    os.close(read)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _collect(child: tuple[int, int] | None) -> list | None:
    """The child's answers; None when it gave none (the share is then worked here)."""
    if child is None:
        return None
    pid, read = child
    try:
        with os.fdopen(read, "rb") as source:
            data = source.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # a cut-off or corrupt answer: worked again here
        return None
