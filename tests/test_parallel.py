"""map_forked: work spread over forked children gives exactly the serial answers, in
order, whatever happens to a child; these fork for real (Linux)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cfgmon import parallel

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="cfgmon forks on Linux only")

@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The pids of the children forked during the test."""
    pids = []
    fork = os.fork

    def recorded_fork():
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)
    return pids


def squares_with_pids(share):
    return [(n * n, os.getpid()) for n in share]


def test_shares_are_worked_by_children_and_answers_keep_the_items_order():
    items = list(range(3 * parallel.MIN_ITEMS_PER_CORE + 7))  # shares of unequal length
    answers = parallel.map_forked(squares_with_pids, items, cores=3)
    assert [square for square, _ in answers] == [n * n for n in items]
    workers = list(dict.fromkeys(pid for _, pid in answers))
    assert workers[0] == os.getpid() and len(workers) == 3  # the first share is this process's


def test_few_items_are_worked_here_without_forking(monkeypatch):
    def no_fork():
        raise AssertionError("forked for a handful of items")

    monkeypatch.setattr(os, "fork", no_fork)
    items = list(range(parallel.MIN_ITEMS_PER_CORE - 1))
    answers = parallel.map_forked(squares_with_pids, items, cores=8)
    assert answers == [(n * n, os.getpid()) for n in items]


def test_a_child_that_dies_costs_time_not_answers():
    me = os.getpid()

    def dies_in_a_child(share):
        if os.getpid() != me:
            os.kill(os.getpid(), 9)  # killed mid-work: no answer reaches the pipe
        return [n + 1 for n in share]

    items = list(range(2 * parallel.MIN_ITEMS_PER_CORE))
    assert parallel.map_forked(dies_in_a_child, items, cores=2) == [n + 1 for n in items]


def test_an_exception_in_a_childs_share_is_raised_here_as_a_serial_run_raises_it():
    items = list(range(2 * parallel.MIN_ITEMS_PER_CORE))
    last = items[-1]  # in the child's share

    def fails_on_the_last(share):
        if last in share:
            raise ValueError(f"item {last} is bad")
        return list(share)

    with pytest.raises(ValueError, match=f"item {last} is bad"):
        parallel.map_forked(fails_on_the_last, items, cores=2)


def test_a_child_writes_nothing_of_the_parents_buffered_output(capfd):
    # a child leaves with os._exit: what this process buffered is written once, by it
    print("before the fork", end="")
    items = list(range(2 * parallel.MIN_ITEMS_PER_CORE))
    parallel.map_forked(squares_with_pids, items, cores=2)
    print()
    assert capfd.readouterr().out.count("before the fork") == 1


def test_in_child_runs_in_each_child_before_its_work_and_never_here():
    cut_off = []

    def work(share):
        return [(n, bool(cut_off)) for n in share]

    items = list(range(3 * parallel.MIN_ITEMS_PER_CORE))
    answers = parallel.map_forked(work, items, cores=3, in_child=lambda: cut_off.append(1))
    size = parallel.MIN_ITEMS_PER_CORE
    assert [n for n, _ in answers] == items
    assert [flag for _, flag in answers] == [False] * size + [True] * 2 * size
    assert not cut_off


def test_an_exception_in_this_processs_share_leaves_no_child_behind(forked):
    me = os.getpid()
    def fails_here(share):
        if os.getpid() == me:
            raise KeyboardInterrupt   # as Ctrl-C would, while the children still work
        time.sleep(30)                # a child that would outlive the parent's exception
        return list(share)

    items = list(range(3 * parallel.MIN_ITEMS_PER_CORE))
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        parallel.map_forked(fails_here, items, cores=3)
    assert time.monotonic() - began < 10 and len(forked) == 2
    for pid in forked:   # stopped and reaped: not a child of this process any more
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_child_answering_too_few_items_has_its_share_worked_again_here():
    me = os.getpid()

    def short_in_a_child(share):
        answers = [n * 2 for n in share]
        return answers[:-1] if os.getpid() != me else answers

    items = list(range(2 * parallel.MIN_ITEMS_PER_CORE + 1))
    assert parallel.map_forked(short_in_a_child, items, cores=2) == [n * 2 for n in items]


def test_a_signal_while_reading_a_child_stops_every_child_and_hangs_nothing(forked):
    # SIGTERM to this process alone, as a supervisor sends it, while the third share's
    # child is still to be read: with each child holding another's pipe, this hung
    class Stopped(Exception):
        pass

    def stop(*_):
        raise Stopped

    me = os.getpid()

    def big_answers(share):
        if os.getpid() != me:
            time.sleep(1)        # the signal comes while this process waits to read
        return [f"{n:01000d}" for n in share]   # ~1 MB a share: more than a pipe holds

    previous = signal.signal(signal.SIGALRM, stop)
    items = list(range(3 * parallel.MIN_ITEMS_PER_CORE))
    began = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Stopped):
            parallel.map_forked(big_answers, items, cores=3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - began < 10 and len(forked) == 2
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_answers_come_back_when_this_process_ignores_sigchld():
    # an inherited SIG_IGN reaps children at once: their status cannot be asked for
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        items = list(range(2 * parallel.MIN_ITEMS_PER_CORE))
        answers = parallel.map_forked(squares_with_pids, items, cores=2)
    finally:
        signal.signal(signal.SIGCHLD, previous)
    assert [square for square, _ in answers] == [n * n for n in items]
    assert len({pid for _, pid in answers}) == 2


@pytest.mark.parametrize(("cpu_max", "cores"), [("150000 100000\n", 2), ("50000 100000\n", 1),
                                               ("max 100000\n", None)])
def test_usable_cores_keeps_within_the_cgroups_cpu_quota(tmp_path, monkeypatch, cpu_max, cores):
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)))
    (tmp_path / "cpu.max").write_text(cpu_max)
    monkeypatch.setattr(parallel, "CGROUP_CPU_MAX", str(tmp_path / "cpu.max"))
    assert parallel.usable_cores() == (cores or 64)
