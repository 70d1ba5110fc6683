"""The gzip bodies published beside the files, for servers that send them as they are.

A long stretch that publish after publish repeats (the home page's list of components,
nine tenths of its bytes, in each language) is deflated once and its stream reused: the
body is the deflate of what comes before the stretch, the kept stream, and the deflate of
what follows, the first two ending on a byte boundary without a final block. That is one
valid deflate stream (pigz builds its bodies so); any client inflates the same bytes.

A history month lists hundreds of entries and an update changes one or two. Its body is
deflated in blocks cut before entries chosen by their own bytes (so a block's bounds do not
move when an entry is added above it), each block with the one before as its dictionary, as
pigz does; a re-publish deflates the blocks that changed and the ones right after them.
"""

from __future__ import annotations

import gzip
import zlib

LEVEL = 6
_HEADER = gzip.compress(b"", LEVEL, mtime=0)[:10]  # no name, no time: bytes depend on data only
_PROBE = 256  # bytes of a stretch searched for before comparing the whole of it

# name (a language) -> the stretch last offered under it, and its deflate once computed
_stretches: dict[str, tuple[bytes, bytes | None]] = {}

_ENTRY = b'<li class="impact-'  # where a month's entry begins (public/macros.html)
_EVERY = 16  # one entry in so many, by a checksum of its first bytes, starts a block
_WINDOW = 32768  # deflate reaches back this far, so a dictionary longer is of no use
# (dictionary, block, last) -> the block's deflate; dropped whole when it grows large
_blocks: dict[tuple[bytes, bytes, bool], bytes] = {}
_MAX_BLOCKS = 16384


def offer(name: str, stretch: bytes) -> None:
    """Let bodies compressed from now on reuse ``stretch`` (replacing what ``name`` held)."""
    held = _stretches.get(name)
    if held is None or held[0] != stretch:
        _stretches[name] = (stretch, None)


def _deflate(data: bytes, final: bool, dictionary: bytes = b"") -> bytes:
    if dictionary:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, zdict=dictionary)
    else:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH
    )


def _find(data: bytes, stretch: bytes) -> int:
    probe = stretch[:_PROBE]
    at = data.find(probe)
    while at >= 0 and not data.startswith(stretch, at):
        at = data.find(probe, at + 1)
    return at


def _cuts(data: bytes) -> list[int]:
    """Where the blocks of ``data`` begin: at 0 and before the entries picked by checksum."""
    cuts = [0]
    at = data.find(_ENTRY, 1)
    while at >= 0:
        if zlib.crc32(data[at : at + _PROBE]) % _EVERY == 0:
            cuts.append(at)
        at = data.find(_ENTRY, at + 1)
    return cuts


def _in_blocks(data: bytes, cuts: list[int]) -> bytes:
    ends = [*cuts[1:], len(data)]
    body = []
    dictionary = b""
    for start, end in zip(cuts, ends, strict=True):
        block, last = data[start:end], end == len(data)
        key = (dictionary, block, last)
        deflated = _blocks.get(key)
        if deflated is None:
            deflated = _deflate(block, last, dictionary)
            if len(_blocks) >= _MAX_BLOCKS:
                _blocks.clear()
            _blocks[key] = deflated
        body.append(deflated)
        dictionary = block[-_WINDOW:]
    return b"".join(body)


def _gzip(body: bytes, data: bytes) -> bytes:
    trailer = zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(
        4, "little"
    )
    return _HEADER + body + trailer


def compress(data: bytes) -> bytes:
    """The gzip body of ``data``; the same bytes for the same data and offered stretches."""
    for name, (stretch, deflated) in _stretches.items():
        at = _find(data, stretch) if len(stretch) <= len(data) else -1
        if at < 0:
            continue
        if deflated is None:
            deflated = _deflate(stretch, final=False)
            _stretches[name] = (stretch, deflated)
        body = (
            _deflate(data[:at], final=False)
            + deflated
            + _deflate(data[at + len(stretch) :], final=True)
        )
        return _gzip(body, data)
    cuts = _cuts(data)
    if len(cuts) > 1:
        return _gzip(_in_blocks(data, cuts), data)
    return gzip.compress(data, LEVEL, mtime=0)
