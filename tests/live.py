"""The app served over real HTTP on 127.0.0.1, for Chromium and schemathesis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import free_port


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` in a thread; yields its base URL and stops it cleanly."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
