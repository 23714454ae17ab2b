"""Benchmark: the HTML report of a large estate, written and opened in headless Chromium.

    .venv/bin/python benchmarks/report.py [--accounts 2000] [--regions 4] [--filters 30000]
        [--patterns 2000] [--alarms 30000] [--subscriptions 20000] [--db PATH]

Builds the synthetic inventory of benchmarks/check.py (every account with the 15
CIS filters on its trail's log group, some broken), runs `cfgmon check` once to store
a run of the whole family (2,000 accounts x 15 controls = 30,000 results), then times
`cfgmon results --format html` (planning every NON_COMPLIANT result's fix included),
and prints the file's size, the time Chromium takes to load it until the matrix is
drawn, to apply a status filter and a control filter, and to show a cell's detail.

Target: the page opens and filters without freezing: load under 3 s, a filter under
300 ms, a detail under 300 ms, the file well under 50 MB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from browser import Chromium, find_chromium  # noqa: E402
from check import build  # noqa: E402

CFGMON = [sys.executable, "-m", "cfgmon.cli"]

TIMED_FILTER = """(() => {
  const input = document.getElementById(%r);
  const start = performance.now();
  input.value = %r;
  input.dispatchEvent(new Event('input'));
  document.body.offsetHeight;               // the layout the filter causes
  return [performance.now() - start,
          document.querySelectorAll('#matrix tbody tr:not([hidden])').length];
})()"""

TIMED_DETAIL = """(async () => {
  const cell = document.querySelector('#matrix tbody tr:not([hidden]) td.s1');
  const start = performance.now();
  cell.click();
  while (!document.getElementById('detail').innerText.includes('Remediation')) {
    await new Promise((done) => setTimeout(done, 5));
  }
  return performance.now() - start;
})()"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[2:])} failed: {done.stderr}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--filters", type=int, default=30_000)
    parser.add_argument("--patterns", type=int, default=2000)
    parser.add_argument("--alarms", type=int, default=30_000)
    parser.add_argument("--subscriptions", type=int, default=20_000)
    parser.add_argument("--db", type=Path, help="where to build the inventory (default: a temp dir)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cfgmon-report-bench-"))
    db = args.db or folder / "bench.duckdb"
    started = time.perf_counter()
    build(db, accounts=args.accounts, regions=args.regions, filters=args.filters,
          patterns=args.patterns, alarms=args.alarms, subscriptions=args.subscriptions)
    print(f"inventory: {args.accounts} accounts x {args.regions} regions, built in "
          f"{time.perf_counter() - started:.1f} s")
    check = timed([*CFGMON, "check", "--db", str(db), "--format", "csv", "--output", "/dev/null"])
    print(f"cfgmon check (the family, recorded): {check:.1f} s")
    report = folder / "report.html"
    render = timed([*CFGMON, "results", "--db", str(db), "--format", "html",
                    "--output", str(report)])
    print(f"cfgmon results --format html: {render:.1f} s, {report.stat().st_size / 1e6:.1f} MB")

    if find_chromium() is None:
        print("no chromium found: the browser figures are skipped")
        return
    with Chromium.start() as browser:
        start = time.perf_counter()
        page = browser.open(report)
        while page.evaluate("document.body.dataset.ready") != "true":
            time.sleep(0.01)
        loaded = time.perf_counter() - start
        rows = page.evaluate("document.querySelectorAll('#matrix tbody tr').length")
        cells = page.evaluate("document.querySelectorAll('#matrix td').length")
        print(f"chromium: loaded and drew {rows} rows, {cells} cells in {loaded:.2f} s")
        for element, value, what in (("f-status", "1", "status NON_COMPLIANT"),
                                     ("f-control", "3", "one control"),
                                     ("f-account", "00012", "account contains 00012"),
                                     ("f-account", "", "account filter cleared")):
            took, shown = page.evaluate(TIMED_FILTER % (element, value))
            print(f"chromium: filter {what}: {took:.0f} ms, {shown} rows shown")
        took = page.evaluate(TIMED_DETAIL)
        print(f"chromium: a cell's detail (its chunk decompressed) in {took:.0f} ms")
        if page.errors:
            print(f"chromium errors: {page.errors}")


if __name__ == "__main__":
    main()
