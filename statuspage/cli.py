"""The ``statuspage`` command: run the embedded service and administer accounts."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import Flask

from statuspage.errors import ValidationError
from statuspage.supervisor import Child, Supervisor
from statuspage.text_rules import check_line

ADMIN_EMAIL = "admin@example.com"


def _app(data_dir: str | None) -> Flask:
    if data_dir:
        os.environ["STATUSPAGE_DATA_DIR"] = str(Path(data_dir).resolve())
    from statuspage import create_app

    return create_app()


def with_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command ``--data-dir`` and run it inside an app context."""

    @click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        help="Data directory (default: $STATUSPAGE_DATA_DIR or ./instance).",
    )
    @wraps(fn)
    def wrapper(*args: Any, data_dir: str | None, **kwargs: Any) -> Any:
        from statuspage.extensions import db

        app = _app(data_dir)
        with app.app_context():
            try:
                return fn(app, *args, **kwargs)
            except ValidationError as exc:
                raise click.ClickException(str(exc)) from None
            finally:
                db.session.remove()
                db.engine.dispose()

    return wrapper


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def main() -> None:
    """Self-hosted incident status page and outage communication service."""


@main.command()
@with_app
def migrate(app: Flask) -> None:
    """Apply database migrations."""
    from flask_migrate import upgrade

    upgrade(revision="heads")
    click.echo("database is up to date")


@main.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "responder", "viewer"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def create_user(app: Flask, email: str, role: str, password_stdin: bool) -> None:
    """Create an operator account."""
    from statuspage import accounts

    email = check_line("email", email, 255)
    user = accounts.create_user(email, _read_password(password_stdin), role)
    click.echo(f"created {user.role} {user.email}")


@main.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def set_password(app: Flask, email: str, password_stdin: bool) -> None:
    """Reset an operator's password."""
    from statuspage import accounts

    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    accounts.set_password(user, _read_password(password_stdin))
    click.echo(f"password changed for {user.email}")


@main.command("create-token")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for.")
@with_app
def create_token(app: Flask, email: str, name: str) -> None:
    """Create an API token for a user and print it once."""
    from statuspage import accounts

    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"no user {email}")
    click.echo(accounts.create_token(user, check_line("name", name, 255)))


@main.command("create-integration")
@click.argument("kind", type=click.Choice(["alertmanager", "grafana", "generic"]))
@click.option("--name", required=True, help="What sends the alerts, e.g. the Alertmanager's name.")
@with_app
def create_integration(app: Flask, kind: str, name: str) -> None:
    """Create an alert integration; the last line printed is the URL to POST alerts to."""
    from statuspage.integrations import registry

    integration, secret = registry.create(actor=None, kind=kind, name=name)
    click.echo(f"created {integration.kind_label} integration “{integration.name}”")
    click.echo(f"or POST to {registry.bearer_url()} with Authorization: Bearer {secret}")
    click.echo(registry.intake_url(secret))


@main.command("add-upstream")
@click.argument("summary_url")
@click.option(
    "--follow",
    "follow",
    multiple=True,
    help="A component to show (name or id; repeat it). Default: every component.",
)
@with_app
def add_upstream(app: Flask, summary_url: str, follow: tuple[str, ...]) -> None:
    """Follow a vendor's Statuspage-v2 page by the URL of its summary.json."""
    from statuspage.upstreams import follow as upstreams

    upstream = upstreams.add(actor=None, url=summary_url, follow=follow or None)
    click.echo(f"following {upstream.name} ({upstream.summary_url})")
    for c in upstream.components:
        mark = "*" if c.followed else " "
        click.echo(f" {mark} {c.display_name}: {c.status}")


@main.command("import-statuspage")
@click.option("--page-id", required=True, help="The page id at Statuspage.")
@click.option(
    "--api-key",
    envvar="STATUSPAGE_IMPORT_API_KEY",
    help="Statuspage API key; better given as $STATUSPAGE_IMPORT_API_KEY or --api-key-stdin.",
)
@click.option("--api-key-stdin", is_flag=True, help="Read the API key from standard input.")
@click.option(
    "--api-url",
    default="https://api.statuspage.io/v1",
    show_default=True,
    help="Base URL of the v1 management API.",
)
@click.option(
    "--requests-per-second",
    type=float,
    default=1.0,
    show_default=True,
    help="Pace of requests (Statuspage allows 1 per second per key).",
)
@with_app
def import_statuspage(
    app: Flask,
    page_id: str,
    api_key: str | None,
    api_key_stdin: bool,
    api_url: str,
    requests_per_second: float,
) -> None:
    """Import components, incidents, maintenances and email subscribers from Statuspage;
    running it again updates what it imported before."""
    from statuspage.importing.client import ImportFailed, StatuspageClient
    from statuspage.importing.migrate import Importer

    if api_key_stdin:
        api_key = sys.stdin.readline().strip()
    if not api_key:
        api_key = click.prompt("Statuspage API key", hide_input=True)
    client = StatuspageClient(api_key, api_url, requests_per_second=requests_per_second)
    try:
        report = Importer(client, page_id).run()
    except ImportFailed as exc:
        raise click.ClickException(f"import stopped: {exc}") from None
    finally:
        client.close()
    for line in report.lines():
        click.echo(line)
    click.echo(f"imported page {page_id} in {client.requests} requests")


@main.command("rotate-secrets")
@with_app
def rotate_secrets(app: Flask) -> None:
    """Re-encrypt stored channel and webhook secrets under the current secret key."""
    from statuspage.keyrotation import rotate_secrets as rotate

    result = rotate()
    click.echo(f"re-encrypted {result.rotated} stored secrets under the current key")
    if result.unreadable:
        raise click.ClickException(
            "no accepted key decrypts: "
            + ", ".join(result.unreadable)
            + " (add the key they were saved under to STATUSPAGE_SECRET_KEY_FALLBACKS)"
        )


@main.command()
@click.option(
    "--full",
    is_flag=True,
    help="Render every file again, not only what changed since the last, and list each "
    "bucket to put back what was changed there by hand.",
)
@with_app
def publish(app: Flask, full: bool) -> None:
    """Render and publish the public page now, mirror it to every bucket, and delete the
    past snapshots no served page needs (beat does this too; a host without beat relies on
    this command)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from statuspage.lib.http import Refused
    from statuspage.publishing import targets
    from statuspage.publishing.cleanup import SLICE, clean_up
    from statuspage.publishing.snapshot import publish as do_publish

    click.echo(f"published {do_publish(full=full)}")
    while clean_up() == SLICE:
        pass
    for target in targets.enabled():
        try:
            done = targets.mirror(target, full=full)
        except (BotoCoreError, ClientError, Refused) as exc:
            raise click.ClickException(f"{target.name}: {exc}") from None
        if done is not None:
            click.echo(f"{target.name}: {done[1].summary()}")


def _prepare_embedded(app: Flask) -> tuple[str, str | None]:
    """Migrate and seed demo data; on first run create the admin and return its password,
    to be shown once: it is stored only as a hash and must be changed at first sign-in."""
    from flask_migrate import upgrade

    from statuspage import accounts
    from statuspage.demo import seed_demo_components
    from statuspage.extensions import db
    from statuspage.models import Page
    from statuspage.publishing.snapshot import publish as do_publish

    upgrade(revision="heads")
    seed_demo_components()
    password = None
    if accounts.find_user(ADMIN_EMAIL) is None:
        password = secrets.token_urlsafe(12)
        accounts.create_user(ADMIN_EMAIL, password, "admin", must_change_password=True)
    # Earlier versions kept the first password in plain text here.
    (Path(app.config["DATA_DIR"]) / "admin-password").unlink(missing_ok=True)
    page_id = Page.get().id
    db.session.commit()
    do_publish()
    return page_id, password


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--web-workers", default=2, show_default=True, type=int)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Data directory (default: $STATUSPAGE_DATA_DIR or ./instance).",
)
def up(host: str, port: int, web_workers: int, data_dir: str | None) -> None:
    """Run web, worker and beat together (embedded mode by default), restarting any that
    exits; Ctrl-C stops all."""
    _check_port_free(host, port)
    os.environ.setdefault("STATUSPAGE_BASE_URL", f"http://{host}:{port}")
    app = _app(data_dir)
    with app.app_context():
        page_id, password = _prepare_embedded(app)
    env = dict(os.environ, STATUSPAGE_DATA_DIR=app.config["DATA_DIR"])
    py = sys.executable
    celery = [py, "-m", "celery", "--quiet", "-A", "workers.celery_app"]
    quiet = ["--loglevel", "WARNING"]
    worker = [
        *celery,
        "worker",
        "--concurrency",
        "2",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        *quiet,
    ]
    # granian: its Rust HTTP layer keeps the public snapshot fast under a crowd. It runs the
    # ASGI front of statuspage/asgi.py, so no thread waits for a slow client's body.
    web = [
        py,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(web_workers),
        "--http1-header-read-timeout",
        str(app.config["BODY_TIMEOUT"] * 1000),
        # A worker told to stop while still loading the app can hang; don't wait on it.
        "--workers-kill-timeout",
        "5",
        "--log-level",
        "warning",
        "statuspage.asgi:create",
    ]
    supervisor = Supervisor(
        [Child("worker", worker), Child("beat", [*celery, "beat", *quiet]), Child("web", web)],
        env,
        lambda line: click.echo(f"statuspage up: {line}", err=True),
    )
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    supervisor.start()
    base = env["STATUSPAGE_BASE_URL"]
    click.echo(f"statuspage is running at {base}/  (admin: {base}/admin/)")
    click.echo(f"page id: {page_id}")
    if password:
        click.echo(f"admin login: {ADMIN_EMAIL} / {password}")
    else:
        click.echo(
            f"admin login: {ADMIN_EMAIL} (reset with: statuspage set-password {ADMIN_EMAIL})"
        )
    click.echo("press Ctrl-C to stop")
    try:
        while not stopping:
            supervisor.check()
            time.sleep(0.2)
    finally:
        supervisor.stop()


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
