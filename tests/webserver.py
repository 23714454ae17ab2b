"""A real web server on 127.0.0.1 and a free port (Python's http.server): HTTP, but not AWS."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FileServer(SimpleHTTPRequestHandler):
    """`python3 -m http.server`: files for GET, 501 Unsupported method for POST."""

    def log_message(self, format, *args) -> None:  # quiet, like the moto simulation
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler] = FileServer,
            folder: Path | None = None) -> Iterator[str]:
    """Serve with `handler` (FileServer serves `folder`) while the block runs; yields its URL."""
    if folder is not None:
        handler = partial(handler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
