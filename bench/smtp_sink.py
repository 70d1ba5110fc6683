"""The fan-out benchmark's mail server: SMTP (RFC 5321) over TCP on 127.0.0.1, in
processes of their own sharing one port, as a mail server's do. It counts every message it
accepts and, while asked to, reports which update each one carried.

It answers what a receiving server must on the wire (greeting; EHLO/HELO with 8BITMIME,
SIZE and, as most mail servers do, PIPELINING (RFC 2920): the replies to commands that
arrived together go back in one write; MAIL, RCPT and DATA in sequence with
dot-unstuffing; RSET, NOOP, QUIT; 5xx for commands out of order, bad syntax, lines over
1,000 octets and 8-bit data not announced with BODY=8BITMIME) and keeps no queue. The
tests' recorder, aiosmtpd, spends about 0.45 ms of CPU per message, as much as the
fan-out's own sending; on a two-core machine that both share, the benchmark would mostly
measure the recorder.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue as queue_module
import re
import time
from email import message_from_bytes, policy

UPDATE_ID = re.compile(rb"#update-([0-9a-z]{12})")
LINE_LIMIT = 1000  # octets including the CRLF (RFC 5321 section 4.5.3.1.6)
SIZE_LIMIT = 32 * 1024 * 1024
_ADDRESS = re.compile(rb"(?i)(FROM|TO):<([^<>\s]*)>((?: [A-Z0-9=.+-]+)*)$")


class Session(asyncio.Protocol):
    """One client connection: commands line by line, then the message until ``.``."""

    def __init__(self, counters: Counters, pipelining: bool) -> None:
        self.counters = counters
        self.pipelining = pipelining
        self.buffer = bytearray()
        self.greeted = False
        self.receiving = False
        self.reset()

    def reset(self) -> None:
        self.sender: bytes | None = None
        self.recipients: list[bytes] = []
        self.eight_bit = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.transport.write(b"220 127.0.0.1 ESMTP fan-out sink\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        try:
            self.serve(replies)
        finally:
            if replies:
                self.transport.write(b"".join(replies))
            if self.closing:
                self.transport.close()

    def serve(self, replies: list[bytes]) -> None:
        """Answer every whole command and message in the buffer, in order."""
        self.closing = False
        while not self.closing:
            if self.receiving:
                # The buffer starts with the CRLF that ended the DATA command, so the end
                # marker is found even for an empty message.
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                content = bytes(self.buffer[: end + 2]).replace(b"\r\n..", b"\r\n.")[2:]
                del self.buffer[: end + 5]
                self.receiving = False
                replies.append(self.accept(content))
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                if len(self.buffer) > LINE_LIMIT:
                    replies.append(b"500 5.5.2 Line too long\r\n")
                    self.closing = True
                return
            line = bytes(self.buffer[:end])
            del self.buffer[: end + 2]
            replies.append(self.command(line))
            if self.receiving:
                self.buffer[:0] = b"\r\n"
            elif line[:4].upper() == b"QUIT":
                self.closing = True

    def command(self, line: bytes) -> bytes:
        verb, _, argument = line.partition(b" ")
        verb = verb.upper()
        if len(line) + 2 > LINE_LIMIT:
            return b"500 5.5.2 Line too long\r\n"
        if verb in (b"EHLO", b"HELO"):
            self.greeted = True
            self.reset()
            if verb == b"HELO":
                return b"250 127.0.0.1\r\n"
            pipelining = b"250-PIPELINING\r\n" if self.pipelining else b""
            return b"250-127.0.0.1\r\n250-8BITMIME\r\n%s250 SIZE %d\r\n" % (
                pipelining,
                SIZE_LIMIT,
            )
        if verb == b"MAIL":
            if not self.greeted or self.sender is not None:
                return b"503 5.5.1 Bad sequence of commands\r\n"
            parsed = _ADDRESS.match(argument)
            if parsed is None or parsed[1].upper() != b"FROM":
                return b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
            for parameter in parsed[3].split():
                name, _, value = parameter.upper().partition(b"=")
                if name == b"BODY" and value in (b"7BIT", b"8BITMIME"):
                    self.eight_bit = value == b"8BITMIME"
                elif name != b"SIZE" or not value.isdigit():
                    return b"555 5.5.4 Unsupported MAIL parameter\r\n"
            self.sender = parsed[2]
            return b"250 2.1.0 OK\r\n"
        if verb == b"RCPT":
            if self.sender is None:
                return b"503 5.5.1 Need MAIL first\r\n"
            parsed = _ADDRESS.match(argument)
            if parsed is None or parsed[1].upper() != b"TO" or not parsed[2] or parsed[3]:
                return b"501 5.5.4 Syntax: RCPT TO:<address>\r\n"
            self.recipients.append(parsed[2])
            return b"250 2.1.5 OK\r\n"
        if verb == b"DATA":
            if not self.recipients:
                return b"503 5.5.1 Need RCPT first\r\n"
            self.receiving = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"RSET":
            self.reset()
            return b"250 2.0.0 OK\r\n"
        if verb == b"NOOP":
            return b"250 2.0.0 OK\r\n"
        if verb == b"QUIT":
            return b"221 2.0.0 Bye\r\n"
        return b"500 5.5.1 Command not recognized\r\n"

    def accept(self, content: bytes) -> bytes:
        """Check the message as it arrived and count it; the transaction ends either way."""
        eight_bit, self.sender, self.recipients = self.eight_bit, None, []
        if len(content) > SIZE_LIMIT:
            return b"552 5.3.4 Message too big\r\n"
        if not eight_bit and not content.isascii():
            return b"554 5.6.1 8-bit data without BODY=8BITMIME\r\n"
        if max(map(len, content.split(b"\r\n"))) + 2 > LINE_LIMIT:
            return b"500 5.5.2 Line too long\r\n"
        self.counters.arrived(content)
        return b"250 2.0.0 Accepted\r\n"


class Counters:
    """What the server processes share with the benchmark."""

    def __init__(self, context: multiprocessing.context.SpawnContext) -> None:
        self.count = context.Value("q", 0)
        self.last = context.Value("d", 0.0)
        self.record = context.Value("b", 1)
        self.arrivals = context.Queue()

    def arrived(self, content: bytes) -> None:
        at = time.time()
        with self.count.get_lock():
            self.count.value += 1
            self.last.value = max(self.last.value, at)
        if self.record.value:
            message = message_from_bytes(content, policy=policy.default)
            text = message.get_body(preferencelist=("plain",))
            match = UPDATE_ID.search(text.get_content().encode()) if text else None
            if match:
                self.arrivals.put((match.group(1).decode(), at))


def serve(port: int, counters: Counters, pipelining: bool, ready, stop) -> None:  # noqa: ANN001
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(
            lambda: Session(counters, pipelining), "127.0.0.1", port, reuse_port=True
        )
    )
    ready.set()
    loop.run_until_complete(loop.run_in_executor(None, stop.wait))
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()


class SMTPSink:
    """The server processes, started on ``port``, and their counters."""

    def __init__(self, port: int, processes: int = 2, *, pipelining: bool = True) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = port
        self.counters = Counters(context)
        self.count, self.last, self.record = (
            self.counters.count,
            self.counters.last,
            self.counters.record,
        )
        self.stop_event = context.Event()
        self.processes = []
        for _ in range(processes):
            ready = context.Event()
            process = context.Process(
                target=serve,
                args=(port, self.counters, pipelining, ready, self.stop_event),
                daemon=True,
            )
            process.start()
            if not ready.wait(30):
                raise RuntimeError("the SMTP server process did not start")
            self.processes.append(process)
        self.seen: dict[str, float] = {}

    def drain(self) -> dict[str, float]:
        """Update id → first arrival time, for every message reported so far."""
        while True:
            try:
                update_id, at = self.counters.arrivals.get_nowait()
            except queue_module.Empty:
                return self.seen
            self.seen.setdefault(update_id, at)

    def stop(self) -> None:
        self.stop_event.set()
        for process in self.processes:
            process.join(30)
        self.counters.arrivals.close()
        self.counters.arrivals.join_thread()
