"""The framework's ceiling for bench/public_read.py: a minimal Flask app that returns the
snapshot's bytes from memory, with no lookup, headers or conditional logic of ours."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

ROOT = Path(os.environ["BENCH_SNAPSHOT"])
INDEX = (ROOT / "index.html").read_bytes()
SUMMARY = (ROOT / "api/v2/summary.json").read_bytes()

app = Flask(__name__)


@app.get("/")
def index() -> Response:
    return Response(INDEX, mimetype="text/html")


@app.get("/api/v2/summary.json")
def summary() -> Response:
    return Response(SUMMARY, mimetype="application/json")
