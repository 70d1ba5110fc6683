"""Email subscribers over SMTP: batches on one connection, parts, unsubscribe headers."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from statuspage import outbox
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Component, DeliveryState, Incident, SubscriberKind
from statuspage.subscriptions import links
from tests.channels.helpers import deliver, open_incident, rows
from tests.conftest import free_port
from tests.fakes.fixtures import add_subscriber, connect


def test_subscribers_get_text_and_html_with_one_click_unsubscribe(
    app, components, wired, monkeypatch
):
    smtp = wired["smtp"]
    monkeypatch.setitem(outbox.BATCH_SIZES, SubscriberKind.EMAIL, 3)
    connect(wired, "smtp")
    api = db.session.get(Component, components["API"])
    website = db.session.get(Component, components["Website"])
    for n in range(7):
        add_subscriber(SubscriberKind.EMAIL, f"all{n}@example.net")
    add_subscriber(SubscriberKind.EMAIL, "api@example.net", components=[api])
    add_subscriber(SubscriberKind.EMAIL, "web@example.net", components=[website])
    add_subscriber(SubscriberKind.EMAIL, "pending@example.net", confirmed=False)

    incident = open_incident({components["API"]: "major_outage"})
    mail_rows = rows("email")
    assert len(mail_rows) == 8  # everyone following all, plus the API follower
    mailboxes = sorted({r.mailbox for r in mail_rows})
    for mailbox in mailboxes:
        deliver(next(r for r in mail_rows if r.mailbox == mailbox))
    assert {r.state for r in rows("email")} == {DeliveryState.SENT}
    assert sorted(a for m in smtp.mails for a in m.recipients) == sorted(
        [f"all{n}@example.net" for n in range(7)] + ["api@example.net"]
    )
    assert smtp.to("web@example.net") == [] and smtp.to("pending@example.net") == []
    assert len(mailboxes) == 3
    assert len({m.peer for m in smtp.mails}) == 1  # the batches share one connection

    mail = smtp.to("api@example.net")[0]
    message = mail.message
    assert message["Subject"] == "[Status] Investigating: Login failures"
    assert message["From"] == "Example Status <status@example.com>"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://status.test/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = next(r for r in rows("email") if r.target_id == mail_target(mail))
    assert message["Message-ID"] == f"<{row.idempotency_key}@example.com>"
    text, html = mail.part("plain"), mail.part("html")
    for part in (text, html):
        assert "Platform - API" in part and "Major outage" in part
        assert "Next update by" in part
        assert f"http://status.test/incidents/{incident.id}#update-" in part
        assert unsubscribe.strip("<>") in part
    assert "<strong>Major outage</strong>" in html


def mail_target(mail) -> int:  # noqa: ANN001
    from statuspage.models import Subscriber

    return db.session.scalar(select(Subscriber.id).where(Subscriber.address == mail.recipients[0]))


def test_a_refused_recipient_dies_alone_and_a_lost_server_is_retried(app, components, wired):
    smtp = wired["smtp"]
    channel = connect(wired, "smtp")["smtp"]
    for address in ("ok@example.net", "gone@example.net", "also-ok@example.net"):
        add_subscriber(SubscriberKind.EMAIL, address)
    smtp.refuse["gone@example.net"] = "550 5.1.1 No such user"
    incident = open_incident()
    deliver(rows("email")[0])
    states = {r.target_id: (r.state, r.last_error) for r in rows("email")}
    assert sorted(s for s, _ in states.values()) == ["dead", "sent", "sent"]
    assert any(e and "550" in e for _, e in states.values())

    channel.config = {**channel.config, "port": 9}  # the server is gone
    db.session.commit()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    second = [r for r in rows("email") if r.update_id != rows("email")[0].update_id]
    deliver(second[0])
    assert {r.state for r in rows("email") if r.id in {s.id for s in second}} == {
        DeliveryState.FAILED
    }
    assert all(
        "SMTP 127.0.0.1" in r.last_error for r in rows("email") if r.id in {s.id for s in second}
    )


def test_lines_starting_with_a_dot_arrive_whole_on_a_pipelining_server(app, components, wired):
    smtp = wired["smtp"]  # announces PIPELINING: MAIL, RCPT and DATA go in one write
    connect(wired, "smtp")
    for address in ("first@example.net", "gone@example.net", "second@example.net"):
        add_subscriber(SubscriberKind.EMAIL, address)
    smtp.refuse["gone@example.net"] = "550 5.1.1 No such user"
    open_incident(body="Steps taken:\n\n.\n\n..env rotated\n\n.cache cleared")
    deliver(rows("email")[0])
    assert sorted(r.state for r in rows("email")) == ["dead", "sent", "sent"]
    for address in ("first@example.net", "second@example.net"):
        (mail,) = smtp.to(address)
        text = mail.part("plain").replace("\r\n", "\n")
        assert "\n.\n\n..env rotated\n\n.cache cleared" in text
        assert mail.message["To"] == address


class EnvelopeRecorder:
    """An aiosmtpd server keeping each envelope with its MAIL parameters. Without
    ``eight_bit`` it announces no 8BITMIME and refuses any 8-bit octet (strict ASCII)."""

    def __init__(self, *, eight_bit: bool) -> None:
        self.envelopes: list = []
        self.peers: list[tuple] = []  # the client's address of each envelope's connection
        self.port = free_port()
        self.eight_bit = eight_bit
        self.controller = self.listen()

    def listen(self) -> Controller:
        return Controller(
            self, hostname="127.0.0.1", port=self.port, decode_data=not self.eight_bit
        )

    def restart(self) -> None:
        """Stop and listen again on the same port: every open connection is dropped."""
        self.controller.stop()
        self.controller = self.listen()
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def messages(self) -> dict[str, tuple[EmailMessage, bytes, list[str]]]:
        """Recipient → (parsed message, raw data, MAIL parameters)."""
        found = {}
        for envelope in self.envelopes:
            (recipient,) = envelope.rcpt_tos
            raw = envelope.original_content
            found[recipient] = (
                message_from_bytes(raw, policy=policy.default),
                raw,
                envelope.mail_options,
            )
        return found


@pytest.fixture(scope="module")
def recorders() -> Iterator[dict[bool, EnvelopeRecorder]]:
    servers = {flag: EnvelopeRecorder(eight_bit=flag) for flag in (True, False)}
    for server in servers.values():
        server.controller.start()
    yield servers
    for server in servers.values():
        server.controller.stop()


def mail_to(recorder: EnvelopeRecorder, wired, *addresses: str, **incident) -> dict:  # noqa: ANN001
    recorder.envelopes.clear()
    channel = connect(wired, "smtp")["smtp"]
    channel.config = {**channel.config, "port": recorder.port}
    db.session.commit()
    for address in addresses:
        add_subscriber(SubscriberKind.EMAIL, address)
    open_incident(**incident)
    deliver(rows("email")[0])
    assert {r.state for r in rows("email")} == {DeliveryState.SENT}
    return recorder.messages()


def part(message: EmailMessage, subtype: str) -> str:
    """The decoded part with the line breaks a mail client shows (CRLF on the wire)."""
    return message.get_body(preferencelist=(subtype,)).get_content().replace("\r\n", "\n")


def assert_own_links(message: EmailMessage, recipient: str) -> None:
    """Both parts and the List-Unsubscribe header carry the recipient's own signed links."""
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    token = unsubscribe.rsplit("/", 1)[-1]
    assert unsubscribe == f"http://status.test/unsubscribe/{token}"
    assert links.subscriber_for(token, links.MANAGE).address == recipient
    manage = f"http://status.test/subscribe/manage/{token}"
    text = part(message, "plain")
    html = part(message, "html")
    assert f"Manage your subscription: {manage}\nUnsubscribe: {unsubscribe}" in text
    assert f'<a href="{manage}">' in html and f'<a href="{unsubscribe}">' in html


def encodings(message: EmailMessage) -> tuple[str, str]:
    return tuple(  # type: ignore[return-value]
        message.get_body(preferencelist=(subtype,))["Content-Transfer-Encoding"]
        for subtype in ("plain", "html")
    )


def test_ascii_text_goes_7bit_and_other_text_8bit_when_the_server_takes_it(
    app, components, wired, recorders
):
    messages = mail_to(recorders[True], wired, "one@example.net", "two@example.net")
    assert sorted(messages) == ["one@example.net", "two@example.net"]
    for recipient, (message, raw, options) in messages.items():
        assert message["To"] == recipient
        # The page name and impact are joined by a middle dot in the HTML part.
        assert encodings(message) == ("7bit", "8bit")
        assert "BODY=8BITMIME" in options
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998
        assert_own_links(message, recipient)
        text = part(message, "plain")
        assert text.startswith("Investigating: Login failures\nMajor impact\n")
        assert "We are investigating failed logins." in text
        html = part(message, "html")
        assert "Status · Major impact" in html
        assert "<p>We are investigating failed logins.</p>" in html


def test_long_lines_go_quoted_printable_and_links_survive_the_soft_breaks(
    app, components, wired, recorders
):
    paragraph = " ".join(f"word{n}=value{n}" for n in range(200))  # one line, 2,600 octets
    messages = mail_to(
        recorders[True], wired, "long@example.net", body=f"{paragraph}\n\nShort line. "
    )
    message, raw, options = messages["long@example.net"]
    assert encodings(message) == ("quoted-printable", "quoted-printable")
    assert "BODY=8BITMIME" not in options
    assert raw.isascii()
    body = raw.split(b"\r\n\r\n", 1)[1]  # the header lines carry whole links
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert_own_links(message, "long@example.net")
    assert paragraph in part(message, "plain")
    assert f"<p>{paragraph}</p>" in part(message, "html")


def test_without_8bitmime_other_text_goes_quoted_printable(app, components, wired, recorders):
    messages = mail_to(
        recorders[False],
        wired,
        "strict@example.net",
        name="Störung der Zahlungen",
        body="Zahlungen schlagen fehl – wir prüfen es.",
    )
    message, raw, options = messages["strict@example.net"]
    assert encodings(message) == ("quoted-printable", "quoted-printable")
    assert "BODY=8BITMIME" not in options and raw.isascii()
    assert_own_links(message, "strict@example.net")
    text = part(message, "plain")
    assert text.startswith("Investigating: Störung der Zahlungen\n")
    assert "Zahlungen schlagen fehl – wir prüfen es." in text
    html = part(message, "html")
    assert "Zahlungen schlagen fehl – wir prüfen es." in html


def test_a_line_break_stored_in_a_name_never_breaks_the_subject(app, components, wired):
    connect(wired, "smtp")
    add_subscriber(SubscriberKind.EMAIL, "reader@example.net")
    incident = open_incident()
    db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id)
        .values(name="Outage\r\nBcc: x@evil.example\u000b")
    )
    db.session.commit()
    for row in rows("email"):
        deliver(row)
    assert {r.state for r in rows("email")} == {DeliveryState.SENT}
    (mail,) = wired["smtp"].to("reader@example.net")
    assert mail.message["Subject"] == "[Status] Investigating: Outage Bcc: x@evil.example"
    assert mail.message["Bcc"] is None and mail.recipients == ["reader@example.net"]


def test_a_connection_the_server_dropped_between_batches_is_opened_again(
    app, components, wired, monkeypatch
):
    monkeypatch.setitem(outbox.BATCH_SIZES, SubscriberKind.EMAIL, 2)
    recorder = EnvelopeRecorder(eight_bit=True)
    recorder.controller.start()
    try:
        channel = connect(wired, "smtp")["smtp"]
        channel.config = {**channel.config, "port": recorder.port}
        db.session.commit()
        addresses = [f"reader{n}@example.net" for n in range(6)]
        for address in addresses:
            add_subscriber(SubscriberKind.EMAIL, address)
        open_incident()
        heads = {}
        for row in rows("email"):
            heads.setdefault(row.mailbox, row)
        *before, last = heads.values()
        assert len(before) >= 2
        for head in before:
            deliver(head)
        earlier = list(recorder.peers)
        assert len(set(earlier)) == 1  # one connection for every batch so far
        recorder.restart()  # the session kept for the next batch is cut
        deliver(last)
        assert {r.state for r in rows("email")} == {DeliveryState.SENT}
        assert sorted(r for e in recorder.envelopes for r in e.rcpt_tos) == addresses
        later = set(recorder.peers[len(earlier) :])
        assert len(later) == 1 and not later & set(earlier)
    finally:
        recorder.controller.stop()
