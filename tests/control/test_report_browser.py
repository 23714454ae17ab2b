"""The HTML report of the demo estate in a real headless Chromium: it loads from disk with no
console error and no request beyond itself, shows every account, filters, and draws a
result's chain and fix on click. A screenshot is left in the artifact folder printed.

Set CFGMON_ARTIFACTS to keep the screenshot somewhere of your choosing, and
CFGMON_CHROMIUM to use another Chromium binary.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from browser import Chromium, find_chromium
from clirun import run_cli

from cfgmon.demo import DEMO_ACCOUNTS, build_and_collect

from .test_html_report import write_hostile_report

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None,
                       reason="no chromium binary found (Debian's chromium package, or $CFGMON_CHROMIUM)"),
]
DEMO = sorted(a.account_id for a in DEMO_ACCOUNTS)
CONFIG = "5.9"   # config_configuration_changes_monitoring in CIS v7.0.0


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo-report")
    db = folder / "demo.duckdb"
    build_and_collect(db, say=lambda _: None)
    report = folder / "report.html"
    result = run_cli("check", "--db", str(db), "--format", "html", "--output", str(report))
    assert result.exit_code == 1, result.stderr
    return report


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    chosen = os.environ.get("CFGMON_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("report-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    with Chromium.start() as chromium:
        yield chromium


def visible_accounts(page) -> list[str]:
    return page.evaluate("Array.from(document.querySelectorAll('#matrix tbody tr:not([hidden]) th'))"
                         ".map((th) => th.textContent)")


def choose(page, element_id: str, value: str) -> None:
    page.evaluate(f"(() => {{ const input = document.getElementById({element_id!r});"
                  f" input.value = {value!r}; input.dispatchEvent(new Event('input')); }})()")


def control_option(page, requirement: str) -> str:
    return page.evaluate("Array.from(document.querySelectorAll('#f-control option'))"
                         f".find((o) => o.textContent.startsWith({requirement + ' '!r})).value")


def test_the_demo_report_in_chromium(browser, demo_report, artifacts, capsys):
    page = browser.open(demo_report, height=1600)
    assert page.evaluate("document.body.dataset.ready") == "true"
    assert visible_accounts(page) == DEMO
    # every cell says its verdict in words, not only in colour
    labels = set(page.evaluate("Array.from(document.querySelectorAll('#matrix td[data-c]'))"
                               ".map((td) => td.textContent)"))
    assert labels == {"pass", "FAIL", "n/a"}

    # AWS Config changes failing: 222 (&& for ||), 333 (no subscriber), 444 (single-region
    # trail), 666 (alarm in the wrong region); the others are hidden
    choose(page, "f-control", control_option(page, CONFIG))
    choose(page, "f-status", "1")
    assert visible_accounts(page) == ["222222222222", "333333333333", "444444444444", "666666666666"]
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'#matrix tbody tr:not([hidden]) td:nth-child(2)')).display") == "none"
    choose(page, "f-status", "0")
    assert visible_accounts(page) == ["111111111111", "555555555555"]
    choose(page, "f-control", "-1")
    choose(page, "f-status", "")
    choose(page, "f-account", "3333")
    assert visible_accounts(page) == ["333333333333"]
    choose(page, "f-account", "")

    # a cell's detail: 222222222222's AWS Config filter is the broken link
    column = int(control_option(page, CONFIG))
    page.evaluate(f"document.querySelector('#matrix tr[data-a=\"1\"] td[data-c=\"{column}\"]').click()")
    detail = _wait_for_text(page, "Remediation")
    assert "\u2717 broken\nmetric filter" in detail
    assert "aws logs put-metric-filter" in detail and "cis-config-changes" in detail
    states = page.evaluate("Array.from(document.querySelectorAll('#detail .link'))"
                           ".map((box) => box.className)")
    assert states == ["link o", "link o", "link b", "link n", "link n", "link n"]

    shot = page.screenshot(artifacts / "demo-report.png")
    with capsys.disabled():
        print(f"\nscreenshot of the demo report: {shot}")
    assert page.errors == []
    assert page.requests == [demo_report.resolve().as_uri()]


def test_markup_in_user_data_stays_text(browser, tmp_path):
    page = browser.open(write_hostile_report(tmp_path / "hostile.html"))
    page.evaluate("document.querySelector('#matrix td[data-c]').click()")
    _wait_for_text(page, "Remediation")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('b[onmouseover]').length") == 0
    assert page.errors == []


def _wait_for_text(page, text: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while True:
        shown = page.evaluate("document.getElementById('detail').innerText")
        if text in shown or time.monotonic() > deadline:
            assert text in shown, shown
            return shown
        time.sleep(0.05)
