"""Bursts of complaints, grouped into one signal ("14 mentions of 'login' in 10 minutes").

The algorithm, in four steps:

1. **Tokenise** each item's text: lower case, links and @handles removed, ``#tag`` read as
   ``tag``; a term is a run of letters and digits of at least three characters that is
   not only digits.
2. **Drop stop words**: common English and social-media filler, plus words that are in
   every result by construction (the listening searches and hashtags, the page's name).
3. **Count distinct items per term in a sliding window**: for each term, over the items
   of the lookback period sorted by time, the largest number of items whose times fit in
   any ``window`` (two pointers, so O(n) per term after sorting). An item counts once per
   term however often it repeats the word.
4. **Threshold and group**: terms reaching ``threshold`` items are signals, strongest
   first; a weaker term whose items are mostly (two thirds or more) those of a stronger
   signal joins that signal instead of standing alone, so "login" and "failing" from
   the same burst are one signal.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Channel, ChannelKind, InboxItem, InboxState, Page

LOOKBACK = timedelta(hours=1)
GROUP_OVERLAP = 2 / 3
_LINK = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@[\w.@-]+")
_WORD = re.compile(r"[^\W_][\w'’-]*[^\W_]|[^\W_]")
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't during each few for from further get gets getting got
    had hadn't has hasn't have haven't having he her here hers herself him himself his how
    i i'm if in into is isn't it it's its itself just let's me more most mustn't my myself
    no nor not now of off on once only or other ought our ours ourselves out over own same
    she should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they're this those through to too under until up very
    was wasn't we we're were weren't what what's when where which while who whom why will
    with won't would wouldn't you you're your yours yourself yourselves
    again anyone anybody everyone else still today yesterday right really please pls thanks
    thank thx hey hello guys lol omg wtf yes yeah yet one two also via amp http https com
    www net org any way know think see seems seem like going gonna want need needs since
    ago minutes minute hours hour day days time times back
    """.split()
)


@dataclass
class Signal:
    terms: list[str]
    count: int
    start: datetime
    end: datetime
    item_ids: set[int] = field(default_factory=set)

    def describe(self, window_minutes: int) -> str:
        quoted = ", ".join(f"'{t}'" for t in self.terms)
        noun = "mention" if self.count == 1 else "mentions"
        return f"{self.count} {noun} of {quoted} in {window_minutes} minutes"


def tokenise(text: str, ignore: Iterable[str] = ()) -> set[str]:
    """The distinct terms of ``text`` that can carry a signal."""
    text = _HANDLE.sub(" ", _LINK.sub(" ", text.lower())).replace("#", " ")
    skip = STOP_WORDS | set(ignore)
    terms = set()
    for word in _WORD.findall(text):
        word = word.replace("’", "'").strip("'-")
        if len(word) >= 3 and not word.isdigit() and word not in skip:
            terms.add(word)
    return terms


def _best_window(times: Sequence[tuple[datetime, int]], window: timedelta) -> tuple[int, int]:
    """Indexes [start, end) of the densest run of ``times`` (sorted) spanning ``window``."""
    best, best_start, start = 0, 0, 0
    for end in range(len(times)):
        while times[end][0] - times[start][0] > window:
            start += 1
        if end - start + 1 > best:
            best, best_start = end - start + 1, start
    return best_start, best_start + best


def detect(
    items: Iterable[tuple[int, datetime, str]],
    *,
    window: timedelta,
    threshold: int,
    ignore: Iterable[str] = (),
) -> list[Signal]:
    """Signals among ``(item id, time, text)`` triples; see the module docstring."""
    ignore = set(ignore)
    by_term: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for item_id, at, text in items:
        for term in tokenise(text, ignore):
            by_term[term].append((at, item_id))
    candidates: list[Signal] = []
    for term, times in by_term.items():
        if len(times) < threshold:
            continue
        times.sort()
        start, end = _best_window(times, window)
        if end - start >= threshold:
            run = times[start:end]
            candidates.append(
                Signal([term], end - start, run[0][0], run[-1][0], {i for _, i in run})
            )
    candidates.sort(key=lambda s: (-s.count, s.terms[0]))
    signals: list[Signal] = []
    for candidate in candidates:
        home = next(
            (
                s
                for s in signals
                if len(candidate.item_ids & s.item_ids) >= GROUP_OVERLAP * candidate.count
            ),
            None,
        )
        if home is None:
            signals.append(candidate)
        else:
            home.terms.append(candidate.terms[0])
    return signals


def ignored_words() -> set[str]:
    """Words every result contains by construction: listening searches, hashtags, and the
    page's own name."""
    words = tokenise(Page.get().name)
    for channel in db.session.scalars(
        db.select(Channel).where(Channel.kind.in_([ChannelKind.X, ChannelKind.MASTODON]))
    ):
        config = channel.config or {}
        for setting in ("search_query", "hashtags"):
            words |= tokenise(re.sub(r"\b[a-z_]+:\S+", " ", config.get(setting) or ""))
    return words


def current(at: datetime | None = None) -> list[Signal]:
    """Signals among the items of the last hour, with the app's window and threshold."""
    from flask import current_app

    at = at or now()
    rows = db.session.execute(
        db.select(InboxItem.id, InboxItem.posted_at, InboxItem.text).where(
            InboxItem.posted_at >= at - LOOKBACK,
            InboxItem.posted_at <= at,
            InboxItem.state != InboxState.IGNORED,
        )
    ).all()
    return detect(
        [tuple(row) for row in rows],
        window=timedelta(minutes=current_app.config["SIGNAL_WINDOW_MINUTES"]),
        threshold=current_app.config["SIGNAL_THRESHOLD"],
        ignore=ignored_words(),
    )
