"""Reading Statuspage's v1 management API: every page of a list, at the documented pace
(1 request per second per token), waiting out a 420/429 for as long as it asks.

Paging differs by endpoint in Statuspage's own documentation: components and groups take
``page`` (from 1) and ``per_page``, subscribers ``page`` (from 0) and ``limit``, and
incidents ``page`` ("page offset", base unstated) and ``limit``. Lists are read until a
page comes back short, from page 0 where the base is unstated, and de-duplicated by id, so
either base reads every record once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from statuspage.lib import http

PER_PAGE = 100
RATE_LIMITED = (420, 429)
MAX_WAITS = 10
MAX_PAGES = 10_000


class ImportFailed(Exception):
    """The source could not be read; the message is safe to print."""


class StatuspageClient:
    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        per_page: int = PER_PAGE,
        requests_per_second: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.per_page = per_page
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self.sleep = sleep
        self.requests = 0
        self._last = 0.0
        self._session = http.session()

    def close(self) -> None:
        self._session.close()

    def _pace(self) -> None:
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """One document, retried after a rate-limit answer at the time it names."""
        url = f"{self.base_url}{path}" + (f"?{urlencode(params)}" if params else "")
        headers = {"Authorization": f"OAuth {self.api_key}", "Accept": "application/json"}
        for attempt in range(MAX_WAITS + 1):
            self._pace()
            self.requests += 1
            try:
                fetched = http.get(self._session, url, headers=headers)
            except http.HttpError as exc:
                if exc.status in RATE_LIMITED and attempt < MAX_WAITS:
                    self.sleep(self._wait(exc, attempt))
                    continue
                message = http.redact(exc.message, [self.api_key])
                raise ImportFailed(f"{path}: {message}") from None
            try:
                return json.loads(fetched.body)
            except ValueError:
                raise ImportFailed(f"{path}: the answer is not JSON") from None
        raise ImportFailed(f"{path}: still rate limited after {MAX_WAITS} waits")

    @staticmethod
    def _wait(exc: http.HttpError, attempt: int) -> float:
        if exc.retry_at is not None:
            return max(0.0, exc.retry_at.timestamp() - time.time())
        return float(min(2**attempt, 60))

    def pages(
        self, path: str, *, size_param: str, first_page: int, params: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every object of a paged list, each once."""
        seen: set[str] = set()
        for page in range(first_page, first_page + MAX_PAGES):
            batch = self.get(path, {**(params or {}), size_param: self.per_page, "page": page})
            if not isinstance(batch, list):
                raise ImportFailed(f"{path}: a list was expected")
            for item in batch:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    if item["id"] not in seen:
                        seen.add(item["id"])
                        yield item
            if len(batch) < self.per_page and page >= 1:
                return
