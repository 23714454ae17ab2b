"""Pure-Python work over many items spread over the machine's cores by forking.

A check's Python work over many items (judging thousands of distinct filter patterns
against the catalogues, planning and rendering tens of thousands of fixes) runs while
DuckDB sits idle, on one core of several. A forked child inherits the
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
answers, and any exception they raise, are exactly those of a serial run. An
exception in this process (Ctrl-C, SIGTERM) kills and reaps every child still
working. Signals are blocked from the fork until the child is inside its own
try (one taken in between would unwind the parent's stack in the child); each
pipe's only reader is this process (a child closes the read ends it inherits,
or two children could wait on each other forever); a child runs with the cyclic
garbage collector off (a collection would copy the inherited heap page by page
and could finalise inherited objects).
"""

from __future__ import annotations

import contextlib
import gc
import math
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
    """The cores this process may run on: its scheduler affinity (else all of them),
    and no more than its cgroup's CPU quota (a container's --cpus) allows."""
    try:
        cores = len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # no affinity on this platform
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


# cgroup v2's CPU quota of this process's cgroup: "max 100000" or "<quota> <period>".
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def _cgroup_cpu_quota() -> float | None:
    """CPUs' worth of time the cgroup may use (1.5 for --cpus 1.5); None: no quota."""
    try:
        with open(CGROUP_CPU_MAX) as source:
            quota, period = source.read().split()[:2]
        return int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):  # no cgroup v2, "max", unreadable
        return None


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
    children: list[_Child | None] = []
    try:
        for start, end in bounds[1:]:
            # a child holds no other child's pipe: each pipe's only reader is this process
            earlier = [child.read for child in children if child is not None]
            children.append(_fork(work, items[start:end], in_child, earlier))
        answers = work(items[bounds[0][0]:bounds[0][1]])
        for (start, end), child in zip(bounds[1:], list(children), strict=True):
            got = child.answers() if child is not None else None
            children.remove(child)
            answers += got if got is not None and len(got) == end - start else \
                work(items[start:end])
        return answers
    finally:
        # an exception here (Ctrl-C, SIGTERM, a share that fails): no child is left behind
        for child in children:
            if child is not None:
                child.abandon()


class _Child:
    """A forked child working a share, and the read end of the pipe it answers through."""

    def __init__(self, pid: int, read: int) -> None:
        self.pid = pid
        self.read: int | None = read

    def answers(self) -> list | None:
        """The child's answers; None when it gave none (the share is then worked here).
        Interrupted (a signal's exception while reading), the child is left for abandon."""
        with os.fdopen(self.read, "rb", closefd=False) as source:
            data = source.read()
        self._close()
        status = self._reap()
        if status not in (0, None) or not data:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # a cut-off or corrupt answer: worked again here
            return None

    def abandon(self) -> None:
        """Stop the child, whose answers are no longer wanted, and reap it."""
        self._close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._reap()

    def _close(self) -> None:
        if self.read is not None:
            read, self.read = self.read, None
            os.close(read)

    def _reap(self) -> int | None:
        """The child's wait status once it has ended; None when it was reaped already
        (this process ignoring SIGCHLD, as an inherited SIG_IGN makes it)."""
        try:
            return os.waitpid(self.pid, 0)[1]
        except ChildProcessError:
            return None


def _fork(work: Callable, share: Sequence, in_child: Callable[[], None] | None,
          inherited: Sequence[int]) -> _Child | None:
    """A child working `share`; None if none could start. `inherited`: file
    descriptors of this process's that the child closes at once."""
    try:
        read, write = os.pipe()
    except OSError:
        return None
    # No signal is taken between fork and the child's own try: one taken there would
    # unwind the parent's stack in the child (closing its database, its files).
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns of forking a process with threads (DuckDB's): the child
            # here never uses what those threads guard (see the module's docstring)
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(read)
        os.close(write)
        return None
    if pid == 0:
        _child(work, share, in_child, [read, *inherited], write, mask)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(write)
    return _Child(pid, read)


def _child(work: Callable, share: Sequence, in_child: Callable[[], None] | None,
           close: Sequence[int], write: int, mask) -> None:
    """A forked child's whole life: its answers through the pipe, then os._exit."""
    status = 1
    try:
        # short-lived: a collection here would copy the inherited heap, and could
        # finalise inherited objects (a database connection)
        gc.disable()
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for fd in close:
            os.close(fd)
        if in_child is not None:
            in_child()
        with os.fdopen(write, "wb") as out:
            pickle.dump(work(share), out, protocol=pickle.HIGHEST_PROTOCOL)
        status = 0
    finally:
        os._exit(status)
