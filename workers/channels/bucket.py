"""An S3-compatible bucket as a publish target: each send mirrors the served snapshot."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from statuspage.extensions import db
from statuspage.lib import http
from statuspage.lib.crypto import SecretError
from statuspage.messages import MessageFacts
from statuspage.models import Channel, Delivery
from statuspage.publishing import targets
from workers.channels.base import DeliveryError, SendResult, Transport, load_channel


def failure(exc: Exception, secrets: tuple[str, ...] = ()) -> DeliveryError:
    """What a store's refusal or an unreachable endpoint means for the outbox: credentials,
    a missing bucket or a refused address are permanent until an operator acts; server
    errors, throttling and connection failures are retried with backoff."""
    if isinstance(exc, http.Refused):
        return DeliveryError(f"refused: {exc}", permanent=True)
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = exc.response.get("Error", {}).get("Code", "")
        message = http.redact(f"the bucket answered {status} {code}".strip(), secrets)
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return DeliveryError(
            message,
            permanent=status > 0 and not http.retryable_status(status),
            retry_at=http.reset_at(headers),
        )
    if isinstance(exc, FileNotFoundError):
        return DeliveryError("the snapshot was replaced while uploading; the newer one goes next")
    return DeliveryError(http.redact(f"the bucket is unreachable: {exc}", secrets)[:300])


def _target_of(delivery: Delivery) -> targets.Target:
    if delivery.channel_id is None:
        target = targets.settings_target()
        if target is None:
            raise DeliveryError("the settings no longer name a bucket", permanent=True)
        return target
    try:
        return targets.from_channel(load_channel(delivery.channel_id))
    except SecretError as exc:
        raise DeliveryError(str(exc), permanent=True) from None


def mirror(target: targets.Target) -> SendResult:
    secrets = tuple(filter(None, [target.endpoint.secret_access_key]))
    try:
        done = targets.mirror(target)
    except (BotoCoreError, ClientError, http.Refused, FileNotFoundError) as exc:
        raise failure(exc, secrets) from None
    if done is None:
        raise DeliveryError("nothing is published yet")
    name, report = done
    return SendResult(external_id=f"{name}: {report.summary()}"[:255])


class Bucket(Transport):
    """Mirroring is idempotent and always carries the newest snapshot, so a burst of
    updates coalesces into one mirror and a lost outcome is simply mirrored again.
    ``follows_page``: a row is taken only once the local snapshot holds its update."""

    coalesce = True
    safe_to_resend = True
    follows_page = True

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        return mirror(_target_of(delivery))

    def test(self, channel: Channel, recipient: str) -> str:
        """Write and remove a small object: proves the address, the credentials and the
        right to write, without touching the site."""
        target = targets.from_channel(channel)
        db.session.rollback()  # no transaction held while the store answers
        key = f"{target.prefix}.statuspage-test"
        secrets = tuple(filter(None, [target.endpoint.secret_access_key]))
        try:
            client = targets.client_for(target)
            client.put_object(Bucket=target.endpoint.bucket, Key=key, Body=b"ok")
            client.delete_object(Bucket=target.endpoint.bucket, Key=key)
        except (BotoCoreError, ClientError, http.Refused) as exc:
            raise failure(exc, secrets) from None
        return f"Wrote and removed {key} in bucket {target.endpoint.bucket}."
