"""A real S3 wire protocol on loopback: moto's server mode in a thread.

Its request recorder shows what reached the server, in order; ``stop``/``start`` on the
same port make a store that goes away and comes back with its buckets.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import free_port

os.environ.setdefault("MOTO_ENABLE_RECORDING", "true")
# The recorder keeps its log in a file, by default in the working directory.
os.environ.setdefault(
    "MOTO_RECORDER_FILEPATH", str(Path(tempfile.gettempdir()) / f"moto-{os.getpid()}.log")
)


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def record(self) -> None:
        """Start recording requests from now on (earlier ones are forgotten)."""
        for step in ("reset-recording", "start-recording"):
            answer = requests.post(f"{self.url}/moto-api/recorder/{step}", timeout=10)
            answer.raise_for_status()

    def recorded(self) -> list[tuple[str, str]]:
        """(method, path) of each request recorded, in the order the server took them."""
        text = requests.get(f"{self.url}/moto-api/recorder/download-recording", timeout=10).text
        requests.post(f"{self.url}/moto-api/recorder/stop-recording", timeout=10)
        found = []
        # Entries one after another: moto writes each entry and its line break apart, so
        # under load two entries may share a line; read them as a stream of JSON values.
        decoder, position = json.JSONDecoder(), 0
        while (position := re.compile(r"\s*").match(text, position).end()) < len(text):
            entry, position = decoder.raw_decode(text, position)
            found.append((entry["method"], urlsplit(entry["url"]).path))
        return found


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()
    Path(os.environ["MOTO_RECORDER_FILEPATH"]).unlink(missing_ok=True)
