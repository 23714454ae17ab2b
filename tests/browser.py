"""A headless Chromium driven over the Chrome DevTools Protocol, for tests and benchmarks.

The system's Chromium (Debian's `chromium` package), started with a fresh profile and
its background networking off, on a DevTools port of its own; one page, whose console
errors, uncaught exceptions and network requests are recorded as they happen.

    with Chromium.start() as browser:
        page = browser.open(path)          # waits for the load event
        page.evaluate("document.title")
        page.screenshot(png_path)
        page.errors, page.requests
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BINARIES = ("chromium", "chromium-browser", "google-chrome", "chrome")
STARTUP_SECONDS = 30
CALL_SECONDS = 60
# As this machine's closed network needs: no background connections, no first-run work.
FLAGS = ("--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--remote-debugging-port=0",
         "--remote-allow-origins=*", "--window-size=1400,900")


def find_chromium() -> str | None:
    """$CFGMON_CHROMIUM, or the first Chromium or Chrome on the PATH."""
    chosen = os.environ.get("CFGMON_CHROMIUM")
    if chosen:
        return chosen
    return next((found for name in BINARIES if (found := shutil.which(name))), None)


class CdpError(RuntimeError):
    pass


class Page:
    def __init__(self, websocket_url: str) -> None:
        import websocket

        self._socket = websocket.create_connection(websocket_url, timeout=CALL_SECONDS,
                                                   suppress_origin=True)
        self._ids = itertools.count(1)
        self._events: list[dict] = []
        self.errors: list[str] = []      # console errors, exceptions, error log entries
        self.requests: list[str] = []    # every URL the page asked for

    def call(self, method: str, **params: Any) -> dict:
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + CALL_SECONDS
        while time.monotonic() < deadline:
            message = json.loads(self._socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise CdpError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._record(message)
        raise CdpError(f"{method}: no answer in {CALL_SECONDS} s")

    def _record(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("exception: " + str(
                details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        self._events.append(message)

    def wait_for(self, method: str, seconds: float = CALL_SECONDS) -> dict:
        """The next event `method` (one already received counts)."""
        deadline = time.monotonic() + seconds
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(i)
            if time.monotonic() > deadline:
                raise CdpError(f"no {method} in {seconds} s")
            self._record(json.loads(self._socket.recv()))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise CdpError(f"{expression[:60]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    def navigate(self, url: str) -> None:
        self._events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._socket.close()


class Chromium:
    def __init__(self, binary: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="cfgmon-chromium-")
        flags = list(FLAGS)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")   # Chromium refuses its sandbox as root
        # Chromium's own chatter goes to a file: a pipe nobody reads would fill and stall it
        self._log = open(Path(self._profile) / "chromium.log", "w")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [binary, *flags, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self._log)
        self.port = self._devtools_port()
        self._pages: list[Page] = []

    @classmethod
    @contextlib.contextmanager
    def start(cls, binary: str | None = None):
        browser = cls(binary or find_chromium() or "chromium")
        try:
            yield browser
        finally:
            browser.stop()

    def _devtools_port(self) -> int:
        """The port Chromium writes into its profile's DevToolsActivePort once it listens."""
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and self._process.poll() is None:
            lines = marker.read_text().splitlines() if marker.exists() else []
            if lines and lines[0].isdigit():
                return int(lines[0])
            time.sleep(0.05)
        log = (Path(self._profile) / "chromium.log").read_text(errors="replace")
        self.stop()
        raise CdpError("Chromium did not start: " + " ".join(log.splitlines()[-5:]))

    def open(self, path: Path, width: int = 1400, height: int = 900) -> Page:
        """A page with every recorder on, showing the file at `path`."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as answer:
            targets = json.load(answer)
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(target["webSocketDebuggerUrl"])
        self._pages.append(page)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        page.navigate(Path(path).resolve().as_uri())
        return page

    def stop(self) -> None:
        for page in self._pages:
            page.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)
