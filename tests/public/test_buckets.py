"""Publishing to S3-compatible buckets, against moto's S3 server on loopback."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import current_app

from statuspage.cli import main
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Channel, DeliveryState, TargetKind
from statuspage.publishing import bucket, targets
from statuspage.publishing.snapshot import current_dir, publish
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes.s3 import S3Server, s3_server  # noqa: F401  (fixture)

S3 = "s3"


@pytest.fixture
def store(app, s3_server: S3Server):  # noqa: F811
    """A fresh bucket on the loopback store, reachable because the setting allows it."""
    app.config["ALLOW_PRIVATE_PUBLISH_TARGETS"] = True
    name = f"site-{uuid.uuid4().hex[:10]}"
    channel = bucket_channel(s3_server.url, name)
    targets.client_for(targets.from_channel(channel)).create_bucket(Bucket=name)
    return channel


def bucket_channel(url: str, name: str, prefix: str = "") -> Channel:
    channel = Channel(
        kind="s3",
        name=f"Bucket {name}",
        config={
            "bucket": name,
            "endpoint_url": url,
            "region": "us-east-1",
            "prefix": prefix,
            "access_key_id": "test-key",
            "addressing": "path",
        },
    )
    channel.secrets = {"secret_access_key": "test-secret"}
    db.session.add(channel)
    db.session.commit()
    return channel


def client_of(channel: Channel):  # noqa: ANN201
    return targets.client_for(targets.from_channel(channel))


def objects(channel: Channel) -> dict[str, dict]:
    client = client_of(channel)
    listed = client.list_objects_v2(Bucket=channel.config["bucket"]).get("Contents", [])
    return {item["Key"]: item for item in listed}


def head(channel: Channel, key: str) -> dict:
    return client_of(channel).head_object(Bucket=channel.config["bucket"], Key=key)


def mirror_now(channel: Channel, at=None) -> bucket.Report:  # noqa: ANN001
    target = targets.from_channel(channel)
    snapshot = current_dir(Path(current_app.config["PUBLISH_DIR"]))
    grace = timedelta(hours=1)
    return bucket.mirror(
        client_of(channel), target.endpoint.bucket, "", snapshot, grace=grace, at=at or now()
    )


def test_an_update_is_mirrored_with_the_sites_urls_types_and_cache_rules(app, components, store):
    incident = open_incident({components["API"]: "major_outage"})
    page, to_bucket = rows("page")[0], rows(S3)[0]
    assert to_bucket.target_kind == TargetKind.CHANNEL and to_bucket.mailbox == f"s3:{store.id}"
    deliver(page)
    deliver(to_bucket)
    row = rows(S3)[0]
    assert row.state == DeliveryState.SENT and row.latency_seconds is not None
    assert "uploaded" in row.external_id
    keys = objects(store)
    for key in ["index.html", f"incidents/{incident.id}", "history", "api/v2/summary.json"]:
        assert key in keys, key
    assert not any(k.endswith((".gz", ".html")) and k != "index.html" for k in keys)
    page_head = head(store, f"incidents/{incident.id}")
    assert page_head["ContentType"] == "text/html; charset=utf-8"
    assert page_head["CacheControl"].startswith("public, max-age=10")
    assert "stale-if-error" in page_head["CacheControl"]
    assert head(store, "history.rss")["ContentType"] == "application/rss+xml; charset=utf-8"
    assert head(store, "static/public.css")["ContentType"] == "text/css; charset=utf-8"
    assert head(store, "api/v2/summary.json")["ContentType"] == "application/json"
    body = client_of(store).get_object(Bucket=store.config["bucket"], Key="api/v2/summary.json")
    local = (current_dir(Path(app.config["PUBLISH_DIR"])) / "api/v2/summary.json").read_bytes()
    assert body["Body"].read() == local


def test_only_changed_objects_are_uploaded_again(app, components, store):
    open_incident({components["API"]: "major_outage"})
    publish()
    first = mirror_now(store)
    assert "static/public.css" in first.uploaded and first.unchanged == 0
    assert mirror_now(store).uploaded == []  # nothing changed: nothing sent
    incident = open_incident({components["Website"]: "partial_outage"}, name="Slow pages")
    publish()
    second = mirror_now(store)
    assert f"incidents/{incident.id}" in second.uploaded
    assert "index.html" in second.uploaded
    assert "static/public.css" not in second.uploaded
    assert second.unchanged > 0 and len(second.uploaded) < len(first.uploaded)


def test_a_mirror_reads_the_files_a_publish_wrote_not_the_history(app, components, store):
    """Files a publish left as they were keep their inode and mtime, so their hashes are
    known without reading them: a mirror reads as many files as were uploaded."""
    for n in range(3):
        open_incident({components["API"]: "major_outage"}, name=f"Outage {n}")
    publish()
    mirror_now(store)
    read_before = len(bucket._hashes)
    open_incident({components["Website"]: "partial_outage"}, name="Slow pages")
    publish()
    report = mirror_now(store)
    assert report.uploaded and report.unchanged > 0
    assert len(bucket._hashes) - read_before == len(report.uploaded)


def test_an_object_changed_or_removed_by_hand_is_put_back_by_a_full_mirror(app, components, store):
    publish()
    start = now()
    mirror_now(store, at=start)
    client, name = client_of(store), store.config["bucket"]
    client.put_object(Bucket=name, Key="index.html", Body=b"oops")
    client.delete_object(Bucket=name, Key="history")
    # An ordinary mirror trusts its manifest and lists nothing, so it cannot see them.
    assert mirror_now(store, at=start + timedelta(minutes=1)).uploaded == []
    snapshot = current_dir(Path(app.config["PUBLISH_DIR"]))
    later = start + timedelta(minutes=2)
    full = bucket.mirror(client, name, "", snapshot, grace=timedelta(hours=1), at=later, full=True)
    assert sorted(full.uploaded) == ["history", "index.html"]
    body = client.get_object(Bucket=name, Key="index.html")["Body"].read()
    assert body == (snapshot / "index.html").read_bytes()


def test_publish_full_from_the_command_line_puts_back_what_was_changed_by_hand(
    app, components, store, monkeypatch
):
    monkeypatch.setenv("STATUSPAGE_ALLOW_PRIVATE_PUBLISH_TARGETS", "1")
    publish()
    mirror_now(store)
    client, name = client_of(store), store.config["bucket"]
    client.put_object(Bucket=name, Key="index.html", Body=b"oops")
    ordinary = CliRunner().invoke(main, ["publish"])
    assert ordinary.exit_code == 0, ordinary.output
    assert client.get_object(Bucket=name, Key="index.html")["Body"].read() == b"oops"
    full = CliRunner().invoke(main, ["publish", "--full"])
    assert full.exit_code == 0, full.output
    assert f"{store.name}: " in full.output
    local = (current_dir(Path(app.config["PUBLISH_DIR"])) / "index.html").read_bytes()
    assert client.get_object(Bucket=name, Key="index.html")["Body"].read() == local


def test_a_mirror_lists_the_bucket_again_once_the_last_full_one_is_old(app, components, store):
    publish()
    start = now()
    mirror_now(store, at=start)
    client_of(store).put_object(Bucket=store.config["bucket"], Key="index.html", Body=b"oops")
    soon = start + bucket.VERIFY_EVERY - timedelta(seconds=1)
    assert mirror_now(store, at=soon).uploaded == []
    assert mirror_now(store, at=start + bucket.VERIFY_EVERY).uploaded == ["index.html"]


def test_an_ordinary_mirror_reads_the_manifest_and_lists_nothing(
    app,
    components,
    store,
    s3_server,  # noqa: F811
):
    open_incident({components["API"]: "major_outage"})
    publish()
    start = now()
    first = mirror_now(store, at=start)
    incident = open_incident({components["Website"]: "partial_outage"}, name="Slow pages")
    publish()
    s3_server.record()
    report = mirror_now(store, at=start + timedelta(minutes=1))
    requests = s3_server.recorded()
    prefix = f"/{store.config['bucket']}"
    assert f"incidents/{incident.id}" in report.uploaded
    assert report.unchanged > 0 and len(report.uploaded) < len(first.uploaded)
    listings = [path for method, path in requests if method == "GET" and path.rstrip("/") == prefix]
    assert listings == []
    gets = [path for method, path in requests if method == "GET"]
    assert gets == [f"{prefix}/{bucket.MANIFEST}"]
    puts = [path.removeprefix(prefix + "/") for method, path in requests if method == "PUT"]
    assert sorted(puts) == sorted([*report.uploaded, bucket.MANIFEST])


def test_pages_and_assets_go_up_before_what_links_to_them(
    app,
    components,
    store,
    s3_server,  # noqa: F811
    monkeypatch,
):
    incident = open_incident({components["API"]: "major_outage"})
    publish()
    # One upload at a time, so the recorder's log (one file) keeps whole lines; waves are
    # awaited the same way whatever runs within them.
    monkeypatch.setattr(bucket, "PARALLEL", 1)
    s3_server.record()
    mirror_now(store)
    puts = [path for method, path in s3_server.recorded() if method == "PUT"]
    prefix = f"/{store.config['bucket']}/"
    order = [p.removeprefix(prefix) for p in puts if p.startswith(prefix)]

    def at(key: str) -> int:
        return order.index(key)

    entry_points = [at("index.html"), at("api/v2/summary.json"), at("history.rss")]
    linked = [at("static/public.css"), at(f"incidents/{incident.id}"), at("history")]
    assert max(linked) < min(entry_points)
    assert at("static/public.css") < at(f"incidents/{incident.id}")
    month = next(k for k in order if k.startswith("history/"))
    assert at(month) < at("history")  # the month page before the page linking to it
    assert order[-1] == bucket.MANIFEST


def test_objects_that_left_the_site_are_deleted_after_the_grace(app, store, tmp_path):
    snapshot = tmp_path / "snap"
    (snapshot / "incidents").mkdir(parents=True)
    for name in ["index.html", "incidents/a.html", "incidents/b.html"]:
        (snapshot / name).write_text(f"<p>{name}</p>")
    client, name = client_of(store), store.config["bucket"]
    start = now()
    hour = timedelta(hours=1)
    bucket.mirror(client, name, "", snapshot, grace=hour, at=start)
    (snapshot / "incidents/b.html").unlink()
    kept = bucket.mirror(client, name, "", snapshot, grace=hour, at=start + timedelta(minutes=1))
    assert kept.deleted == [] and kept.leaving == 1
    assert "incidents/b" in objects(store)
    later = bucket.mirror(client, name, "", snapshot, grace=hour, at=start + timedelta(minutes=59))
    assert later.deleted == [] and "incidents/b" in objects(store)
    gone = bucket.mirror(client, name, "", snapshot, grace=hour, at=start + timedelta(minutes=61))
    assert gone.deleted == ["incidents/b"]
    assert set(objects(store)) == {"index.html", "incidents/a", bucket.MANIFEST}


def test_an_ordinary_mirror_deletes_after_the_grace_without_listing(
    app,
    store,
    tmp_path,
    s3_server,  # noqa: F811
):
    snapshot = tmp_path / "snap"
    (snapshot / "incidents").mkdir(parents=True)
    for name in ["index.html", "incidents/a.html", "incidents/b.html"]:
        (snapshot / name).write_text(f"<p>{name}</p>")
    client, name = client_of(store), store.config["bucket"]
    start, grace = now(), timedelta(minutes=10)
    bucket.mirror(client, name, "", snapshot, grace=grace, at=start)
    (snapshot / "incidents/b.html").unlink()
    kept = bucket.mirror(client, name, "", snapshot, grace=grace, at=start + timedelta(minutes=1))
    assert kept.deleted == [] and kept.leaving == 1
    s3_server.record()
    gone = bucket.mirror(client, name, "", snapshot, grace=grace, at=start + timedelta(minutes=12))
    requests = s3_server.recorded()
    assert gone.deleted == ["incidents/b"] and gone.leaving == 0
    assert not [
        path for method, path in requests if method == "GET" and path.rstrip("/") == f"/{name}"
    ]
    assert ("POST", f"/{name}") in requests or ("POST", f"/{name}/") in requests  # DeleteObjects
    assert set(objects(store)) == {"index.html", "incidents/a", bucket.MANIFEST}


def test_objects_it_did_not_upload_are_left_alone(app, store, tmp_path):
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "index.html").write_text("<p>home</p>")
    client, name = client_of(store), store.config["bucket"]
    client.put_object(Bucket=name, Key="robots.txt", Body=b"User-agent: *")
    start = now()
    bucket.mirror(client, name, "", snapshot, grace=timedelta(0), at=start)
    bucket.mirror(client, name, "", snapshot, grace=timedelta(0), at=start + timedelta(days=1))
    assert "robots.txt" in objects(store)


def test_a_bucket_row_waits_until_the_page_holds_its_update(app, components, store):
    open_incident({components["API"]: "major_outage"})
    to_bucket = rows(S3)[0]
    deliver(to_bucket)
    assert rows(S3)[0].state == DeliveryState.PENDING  # the page has not rendered it yet
    assert objects(store) == {}
    deliver(rows("page")[0])
    deliver(to_bucket)
    assert rows(S3)[0].state == DeliveryState.SENT


def test_a_store_that_goes_away_is_retried_with_backoff_and_then_mirrored(
    app,
    components,
    store,
    s3_server,  # noqa: F811
):
    open_incident({components["API"]: "major_outage"})
    deliver(rows("page")[0])
    s3_server.stop()
    try:
        deliver(rows(S3)[0])
        failed = rows(S3)[0]
        assert failed.state == DeliveryState.FAILED and failed.attempts == 1
        assert "unreachable" in failed.last_error
        assert failed.next_attempt_at > now()
    finally:
        s3_server.start()
    make_due(failed)
    deliver(failed)
    sent = rows(S3)[0]
    assert sent.state == DeliveryState.SENT and sent.attempts == 2
    assert "index.html" in objects(store)


def test_a_private_endpoint_is_refused_unless_the_setting_allows_it(app, components, store):
    app.config["ALLOW_PRIVATE_PUBLISH_TARGETS"] = False
    open_incident({components["API"]: "major_outage"})
    deliver(rows("page")[0])
    deliver(rows(S3)[0])
    row = rows(S3)[0]
    assert row.state == DeliveryState.DEAD
    assert row.last_error.startswith("refused: 127.0.0.1 resolves to a non-public address")


def test_each_target_has_its_own_row(app, components, store, s3_server):  # noqa: F811
    other = f"site-{uuid.uuid4().hex[:10]}"
    app.config.update(
        S3_BUCKET=other,
        S3_ENDPOINT_URL=s3_server.url,
        S3_ACCESS_KEY_ID="test-key",
        S3_SECRET_ACCESS_KEY="test-secret",
        S3_ADDRESSING="path",
        S3_PREFIX="status/",
    )
    targets.client_for(targets.settings_target()).create_bucket(Bucket=other)
    update = open_incident({components["API"]: "major_outage"})
    assert len(rows("page")) == 1
    by_kind = {r.target_kind: r for r in rows(S3)}
    assert by_kind[TargetKind.PAGE].target_id == targets.SETTINGS_TARGET_ID
    assert by_kind[TargetKind.PAGE].channel_id is None
    assert by_kind[TargetKind.CHANNEL].channel_id == store.id
    mailboxes = {r.mailbox for r in rows(S3)}
    assert mailboxes == {targets.SETTINGS_MAILBOX, f"s3:{store.id}"}
    deliver(rows("page")[0])
    for row in rows(S3):
        deliver(row)
    assert [r.state for r in rows()] == [DeliveryState.SENT] * 3
    client = targets.client_for(targets.settings_target())
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=other)["Contents"]}
    assert f"status/incidents/{update.id}" in keys and "status/index.html" in keys
    assert "index.html" in objects(store)


def test_page_changes_without_an_update_are_mirrored_too(app, components, store):
    from workers import tasks

    publish()
    done = tasks.mirror_buckets()
    assert "uploaded" in done[store.name]
    assert "index.html" in objects(store)
    db.session.refresh(store)
    assert store.last_error is None


def test_the_admin_refuses_a_private_endpoint_and_a_bad_bucket_name(app, client, cast):
    from tests.signin import csrf_token, sign_in

    sign_in(client, "alice@example.com")
    path = "/admin/channels/new/s3"
    form = {
        "name": "Mirror",
        "enabled": "y",
        "bucket": "status-site",
        "region": "us-east-1",
        "access_key_id": "key",
        "secret_access_key": "secret",
        "addressing": "path",
    }
    private = client.post(
        path,
        data={**form, "csrf_token": csrf_token(client, path), "endpoint_url": "https://127.0.0.1"},
    )
    assert private.status_code == 422 and b"non-public address" in private.data
    bad = client.post(path, data={**form, "csrf_token": csrf_token(client, path), "bucket": "a..b"})
    assert bad.status_code == 422 and b"is not a bucket name" in bad.data
    assert db.session.scalar(db.select(Channel).where(Channel.kind == "s3")) is None


def test_send_test_writes_and_removes_an_object(app, store):
    from workers import tasks

    tasks.test_channel(store.id, "alice@example.com")
    db.session.refresh(store)
    assert store.last_test_ok, store.last_test_message
    assert store.last_test_message.startswith("Wrote and removed .statuspage-test")
    assert objects(store) == {}


def test_a_node_nginx_in_front_of_the_bucket_keeps_serving_while_the_store_is_down(
    app,
    components,
    store,
    s3_server,  # noqa: F811
    tmp_path,
):
    import time

    import requests

    from tests.conftest import ROOT, free_port
    from tests.public.test_nginx import running_nginx

    incident = open_incident({components["API"]: "major_outage"})
    served = publish()
    mirror_now(store)
    name = store.config["bucket"]
    readable = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ],
    }
    client_of(store).put_bucket_policy(Bucket=name, Policy=json.dumps(readable))
    port, store_port = free_port(), s3_server.port
    (tmp_path / "cache").mkdir()
    server = f"""
    proxy_cache_path {tmp_path}/cache keys_zone=statuspage_bucket:1m use_temp_path=off;
    upstream statuspage_bucket {{ server 127.0.0.1:{store_port}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{port};
        set $statuspage_bucket_host 127.0.0.1:{store_port};
        set $statuspage_bucket_path /{name};
        set $statuspage_bucket_scheme http;
        include {ROOT}/deploy/nginx/bucket-locations.conf;
    }}
    """
    paths = {
        "/": ("index.html", "text/html; charset=utf-8"),
        f"/incidents/{incident.id}": (f"incidents/{incident.id}.html", "text/html; charset=utf-8"),
        "/api/v2/summary.json": ("api/v2/summary.json", "application/json"),
    }
    with running_nginx(tmp_path, port, server) as base:
        for path, (file, kind) in paths.items():
            answer = requests.get(base + path, timeout=5)
            assert answer.status_code == 200, path
            assert answer.content == (served / file).read_bytes()
            assert answer.headers["Content-Type"] == kind
            assert "stale-if-error" in answer.headers["Cache-Control"]
            assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
            assert "x-amz-request-id" not in answer.headers
        assert requests.post(base + "/", timeout=5).status_code == 403
        s3_server.stop()
        try:
            time.sleep(11)  # past the objects' max-age=10: only a stale copy is left
            for path, (file, _) in paths.items():
                answer = requests.get(base + path, timeout=10)
                assert answer.status_code == 200, path
                assert answer.content == (served / file).read_bytes()
        finally:
            s3_server.start()
