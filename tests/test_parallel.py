"""map_forked: work spread over forked children gives exactly the serial answers, in
order, whatever happens to a child; these fork for real (Linux)."""

from __future__ import annotations

import os
import time

import pytest

from cfgmon import parallel

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="cfgmon forks on Linux only")

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


def test_an_exception_in_this_processs_share_leaves_no_child_behind(monkeypatch):
    me = os.getpid()
    forked = []
    fork = os.fork

    def recorded_fork():
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    def fails_here(share):
        if os.getpid() == me:
            raise KeyboardInterrupt   # as Ctrl-C would, while the children still work
        time.sleep(30)                # a child that would outlive the parent's exception
        return list(share)

    monkeypatch.setattr(os, "fork", recorded_fork)
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
