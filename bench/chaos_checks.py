"""What a chaos run is judged by: the outbox ledger in the database against what the far
ends recorded. Pure functions of those records, so a run's verdict can be recomputed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.chaos_fakes import UNKNOWN_OUTCOME, Exchange

Target = tuple[str, str]  # (far end, where there: a path or an address; "" for one place)


@dataclass(frozen=True)
class Post:
    """A post in a thread at X or Mastodon."""

    id: str
    in_reply_to: str | None
    update_id: str


@dataclass
class Ledger:
    """The database's side: updates in the order they were committed, and every row."""

    updates: list[dict[str, Any]]  # id, incident_id (ordered by created_at, id)
    rows: list[dict[str, Any]]  # the updates' rows, with their subscriber's address
    incidents: list[str]
    alerts: dict[str, int]  # operator alert rows by "kind state"
    unfinished: int  # rows of any kind not sent, dead or settled at the end


def target_of(row: dict[str, Any], receiver_path: str) -> Target:
    """Where a ledger row should have arrived, named as the far ends record it."""
    if row["target_kind"] == "page":
        return ("page", "")
    if row["target_kind"] == "channel":
        kind = row["transport"]
        return (kind, receiver_path if kind == "webhook" else "")
    if row["transport"] == "webhook":
        return ("webhook", urlsplit(row["address"]).path)
    return ("email", row["address"])


def arrivals(
    exchanges: Iterable[Exchange], posts: dict[str, list[Post]]
) -> dict[Target, dict[str, list[str]]]:
    """For every target, the updates that arrived and under which identities: the post
    ids at X and Mastodon, the delivery id or Message-ID of webhooks and mail, and one
    identity per message at Slack (which has none)."""
    found: dict[Target, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for far_end, thread in posts.items():
        for post in thread:
            found[(far_end, "")][post.update_id].append(post.id)
    for n, exchange in enumerate(exchanges):
        if not exchange.processed or exchange.update_id is None:
            continue
        if exchange.far_end == "slack":
            found[("slack", "")][exchange.update_id].append(f"message {n}")  # no identity
        elif exchange.far_end in ("webhook", "email"):
            found[(exchange.far_end, exchange.path)][exchange.update_id].append(exchange.key or "")
    return found


def delivery_counts(
    ledger: Ledger,
    found: dict[Target, dict[str, list[str]]],
    published: set[str],
    receiver_path: str,
) -> dict[str, int]:
    """Lost rows (committed, not arrived, not uncertain), rows left uncertain or dead, and
    updates without the rows they should have."""
    counts: Counter[str] = Counter()
    for row in ledger.rows:
        target = target_of(row, receiver_path)
        if target == ("page", ""):
            arrived = row["update_id"] in published
        else:
            arrived = bool(found.get(target, {}).get(row["update_id"]))
        state = row["state"]
        counts[f"state_{state}"] += 1
        if state == "uncertain":
            counts["uncertain"] += 1
            counts["uncertain_posted" if arrived else "uncertain_not_posted"] += 1
            if "reading the account's posts back failed" in (row["last_error"] or ""):
                counts["uncertain_read_back_failed"] += 1
        elif not arrived:
            counts["lost"] += 1
        elif state != "sent":
            counts["arrived_but_" + state] += 1
    targets_per_update = Counter(row["update_id"] for row in ledger.rows)
    expected = max(targets_per_update.values(), default=0)
    counts["updates_missing_rows"] = sum(
        1 for u in ledger.updates if targets_per_update[u["id"]] < expected
    )
    return dict(counts)


def duplicates(
    found: dict[Target, dict[str, list[str]]], exchanges: list[Exchange]
) -> dict[str, int]:
    """The same update shown twice at one far end under two identities. Repeats under the
    same identity (a Mastodon key, a delivery id, a Message-ID) are resends the far end
    can recognise. Slack has no identity: a message that follows one whose answer never
    came whole is counted apart, as the README's stated trade-off."""
    counts: Counter[str] = Counter()
    for (far_end, _where), updates in found.items():
        for identities in updates.values():
            distinct = len(set(identities))
            counts["resent_same_identity"] += len(identities) - distinct
            if far_end != "slack":
                counts["distinct_duplicates"] += max(0, distinct - 1)
    slack: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        if exchange.far_end == "slack" and exchange.processed and exchange.update_id:
            slack[exchange.update_id].append(exchange)
    for messages in slack.values():
        messages.sort(key=lambda e: e.at)
        for before in messages[:-1]:
            if before.fault in UNKNOWN_OUTCOME:
                counts["slack_repeats_after_unknown_outcome"] += 1
            else:
                counts["distinct_duplicates"] += 1
    return {
        "distinct_duplicates": counts["distinct_duplicates"],
        "slack_repeats_after_unknown_outcome": counts["slack_repeats_after_unknown_outcome"],
        "resent_same_identity": counts["resent_same_identity"],
    }


def thread_faults(posts: list[Post], ledger: Ledger) -> dict[str, int]:
    """Order violations (a post that does not answer the post of the update before it, or
    was made before it) and forks (two posts answering one post, or two starting one
    incident's thread)."""
    by_update: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        by_update[post.update_id].append(post)
    updates_by_incident: dict[str, list[str]] = defaultdict(list)
    for update in ledger.updates:
        updates_by_incident[update["incident_id"]].append(update["id"])
    violations = forks = 0
    for update_ids in updates_by_incident.values():
        thread = [p for u in update_ids for p in by_update.get(u, [])]
        forks += max(0, sum(1 for p in thread if p.in_reply_to is None) - 1)
        answers = Counter(p.in_reply_to for p in thread if p.in_reply_to is not None)
        forks += sum(n - 1 for n in answers.values() if n > 1)
        previous: Post | None = None
        for update_id in update_ids:
            if not by_update.get(update_id):
                continue
            post = min(by_update[update_id], key=lambda p: int(p.id))
            parent = previous.id if previous else None
            if post.in_reply_to != parent or (previous and int(post.id) < int(previous.id)):
                violations += 1
            previous = post
    return {"order_violations": violations, "forks": forks}


def early_retries(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """Requests for an update that came before the time an earlier answer about the same
    update named (a 429 or 503 reset header)."""
    by_item: dict[tuple[str, str, str], list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        if exchange.update_id is not None:
            by_item[(exchange.far_end, exchange.path, exchange.update_id)].append(exchange)
    early = []
    for (far_end, path, update_id), items in by_item.items():
        items.sort(key=lambda e: e.at)
        for n, exchange in enumerate(items):
            if exchange.reset_at is None:
                continue
            for later in items[n + 1 :]:
                if later.at < exchange.reset_at:
                    early.append(
                        {
                            "far_end": far_end,
                            "path": path,
                            "update": update_id,
                            "header": exchange.reset_header,
                            "early_by_s": round(exchange.reset_at - later.at, 3),
                            "keys": [exchange.key, later.key],
                            "history": [
                                (round(e.at - items[0].at, 3), e.fault, e.status, e.reset_at)
                                for e in items
                            ],
                        }
                    )
    return early


def faults_seen(exchanges: list[Exchange]) -> dict[str, int]:
    counts = Counter(f"{e.far_end} {e.fault}" for e in exchanges)
    counts.update(f"429 {e.reset_header}" for e in exchanges if e.reset_header)
    return dict(sorted(counts.items()))
