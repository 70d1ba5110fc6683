"""The page's own look: a logo, a favicon, a brand colour, footer links and custom CSS.

Everything here is checked when it is saved, not when it is shown: a logo is a PNG or an
SVG passed through svg-hush (Cloudflare's SVG sanitiser: no scripts, event handlers or
references to other documents), the brand colour must carry white text at WCAG AA
contrast, and custom CSS may not reach another host. The published site then serves the
files from its own snapshot, behind a CSP that allows images and styles from itself only.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Any

import py_svg_hush

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents.republish import request_publish
from statuspage.incidents.service import Errors
from statuspage.lib.links import web_url
from statuspage.models import Page, User
from statuspage.models.audit import record
from statuspage.text_rules import check_line

MAX_LOGO = 512 * 1024
MAX_FAVICON = 100 * 1024
MAX_PIXELS = 4096  # a PNG wider or taller than this is not a logo
MAX_CSS = 20_000
MAX_LINKS = 8
MAX_LABEL = 60
MAX_URL = 500
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal text: white on the brand colour

PNG = b"\x89PNG\r\n\x1a\n"
ICO = b"\x00\x00\x01\x00"
TYPES = {"image/png": "png", "image/svg+xml": "svg", "image/x-icon": "ico"}
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Image:
    data: bytes
    type: str

    @property
    def name(self) -> str:
        return TYPES[self.type]


def _png(data: bytes, field: str) -> Image:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ValidationError({field: "is not a readable PNG"})
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_PIXELS and 0 < height <= MAX_PIXELS):
        raise ValidationError({field: f"must be at most {MAX_PIXELS}×{MAX_PIXELS} pixels"})
    return Image(data, "image/png")


def _svg(data: bytes, field: str) -> Image:
    try:
        clean = py_svg_hush.filter_svg(data)
    except Exception:  # svg-hush raises its own error types for XML it cannot read
        raise ValidationError({field: "is not a readable SVG"}) from None
    if b"<svg" not in clean:
        raise ValidationError({field: "is not a readable SVG"})
    return Image(clean, "image/svg+xml")


def check_image(field: str, data: bytes, limit: int, icon: bool = False) -> Image:
    """A PNG as it is, an SVG sanitised (and for a favicon, an ICO); anything else refused."""
    if not data:
        raise ValidationError({field: "is empty"})
    if len(data) > limit:
        raise ValidationError({field: f"must be at most {limit // 1024} KiB"})
    if data.startswith(PNG):
        return _png(data, field)
    if icon and data.startswith(ICO):
        return Image(data, "image/x-icon")
    if b"<svg" in data[:4096]:
        return _svg(data, field)
    kinds = "a PNG, an ICO or an SVG" if icon else "a PNG or an SVG"
    raise ValidationError({field: f"must be {kinds}"})


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_with_white(colour: str) -> float:
    """The WCAG contrast ratio of white text on ``colour`` (1 to 21)."""
    return 1.05 / (_luminance(colour) + 0.05)


def darkened(colour: str) -> str:
    """The lightest shade of ``colour`` (same hue, scaled towards black) that white text
    reads on at AA contrast: what the error suggests instead."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(100, -1, -1):
        shade = "#" + "".join(f"{round(c * step / 100):02x}" for c in (r, g, b))
        if contrast_with_white(shade) >= MIN_CONTRAST:
            return shade
    return "#000000"


def check_colour(value: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not _COLOUR.fullmatch(text):
        raise ValidationError({"brand_colour": "must be a colour like #0969da"})
    text = text.lower()
    ratio = contrast_with_white(text)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            {
                "brand_colour": f"gives white text a contrast of {ratio:.1f}:1; WCAG AA needs "
                f"{MIN_CONTRAST}:1 (the same hue darkened enough: {darkened(text)})"
            }
        )
    return text


def check_links(text: str) -> list[dict[str, str]]:
    """Footer links, one "Label | https://…" per line."""
    links = []
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINKS:
        raise ValidationError({"footer_links": f"may hold at most {MAX_LINKS} links"})
    for number, line in enumerate(lines, 1):
        label, bar, url = line.rpartition("|")
        label, url = label.strip(), url.strip()
        if not bar or not label:
            raise ValidationError({"footer_links": f"line {number}: write “Label | https://…”"})
        label = check_line("footer_links", label, MAX_LABEL)
        if len(url) > MAX_URL or web_url(url) is None:
            raise ValidationError({"footer_links": f"line {number}: the address must be http(s)"})
        links.append({"label": label, "url": url})
    return links


_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.S)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)
_URL_ARG = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)")
# Ways CSS can name another document; url() is allowed for inline data: images only.
_FORBIDDEN = (
    "@import",
    "image-set(",
    "src(",
    "expression(",
    "javascript:",
    "-moz-binding",
    "behavior",
    "@namespace",
)


def _decoded(css: str) -> str:
    """The CSS as a browser reads it: escapes resolved, comments removed, lower case."""

    def unescape(match: re.Match[str]) -> str:
        if match.group(1):
            point = int(match.group(1), 16)
            return chr(point) if 0 < point <= 0x10FFFF else "\ufffd"
        return match.group(2)

    return _CSS_COMMENT.sub(" ", _CSS_ESCAPE.sub(unescape, css)).lower()


def check_css(text: str) -> str | None:
    css = (text or "").replace("\r\n", "\n").strip()
    if not css:
        return None
    if len(css) > MAX_CSS:
        raise ValidationError({"custom_css": f"must be at most {MAX_CSS:,} characters"})
    if "\x00" in css or "<" in css:
        raise ValidationError({"custom_css": "may not contain “<” or NUL"})
    plain = _decoded(css)
    for word in _FORBIDDEN:
        if word in plain:
            raise ValidationError({"custom_css": f"may not use {word.rstrip('(')}"})
    for target in _URL_ARG.findall(plain):
        if not target.startswith("data:image/"):
            raise ValidationError(
                {"custom_css": "url() may only hold a data:image/… address, no other host"}
            )
    return css


@dataclass(frozen=True)
class Brand:
    """What the templates need, with content hashes for cache-safe URLs."""

    logo: str | None  # snapshot path
    favicon: str | None
    favicon_type: str | None
    colour: str | None
    links: list[dict[str, str]]
    css: bool
    version: str

    def url(self, path: str | None) -> str | None:
        return f"/{path}?v={self.version}" if path else None


def brand(page: Page) -> Brand:
    digest = hashlib.sha256()
    for part in (page.logo, page.favicon, page.brand_colour, page.custom_css, page.footer_links):
        digest.update(repr(part).encode())
    logo = f"brand/logo.{TYPES[page.logo_type]}" if page.logo and page.logo_type else None
    favicon = (
        f"brand/favicon.{TYPES[page.favicon_type]}" if page.favicon and page.favicon_type else None
    )
    return Brand(
        logo=logo,
        favicon=favicon,
        favicon_type=page.favicon_type if favicon else None,
        colour=page.brand_colour,
        links=list(page.footer_links or []),
        css=bool(page.brand_colour or page.custom_css),
        version=digest.hexdigest()[:12],
    )


def stylesheet(page: Page) -> bytes:
    """``brand.css``: the colour as the page's accent, then the operator's own CSS."""
    parts = []
    if page.brand_colour:
        parts.append(
            f":root {{ --brand: {page.brand_colour}; }}\n"
            "header.site { border-top: 4px solid var(--brand); }\n"
            ".subscribe { background: var(--brand); border-color: var(--brand); color: #fff; }\n"
        )
    if page.custom_css:
        parts.append(page.custom_css + "\n")
    return "".join(parts).encode()


def documents(page: Page) -> dict[str, bytes]:
    """The brand's files in the snapshot."""
    current = brand(page)
    files = {}
    if current.logo:
        files[current.logo] = page.logo
    if current.favicon:
        files[current.favicon] = page.favicon
    if current.css:
        files["brand.css"] = stylesheet(page)
    return files


def save(
    *,
    actor: User | None,
    colour: str,
    links: str,
    css: str,
    logo: bytes | None = None,
    favicon: bytes | None = None,
    remove_logo: bool = False,
    remove_favicon: bool = False,
) -> Page:
    """Check everything, then change it all in one transaction and re-publish."""
    errors = Errors()
    clean_colour = errors.check(check_colour, colour)
    clean_links = errors.check(check_links, links)
    clean_css = errors.check(check_css, css)
    new_logo = errors.check(check_image, "logo", logo, MAX_LOGO) if logo else None
    new_icon = errors.check(check_image, "favicon", favicon, MAX_FAVICON, True) if favicon else None
    errors.raise_any()
    page = Page.get()
    before = _summary(page)
    page.brand_colour, page.custom_css = clean_colour, clean_css
    page.footer_links = clean_links or None
    if new_logo is not None:
        page.logo, page.logo_type = new_logo.data, new_logo.type
    elif remove_logo:
        page.logo = page.logo_type = None
    if new_icon is not None:
        page.favicon, page.favicon_type = new_icon.data, new_icon.type
    elif remove_favicon:
        page.favicon = page.favicon_type = None
    record(actor, "page.branding", "page", page.id, before, _summary(page))
    request_publish("branding changed")
    db.session.commit()
    return page


def _summary(page: Page) -> dict[str, Any]:
    """What the audit log keeps: the settings, and the images by size and hash."""

    def image(data: bytes | None, kind: str | None) -> str | None:
        return (
            f"{kind}, {len(data)} bytes, {hashlib.sha256(data).hexdigest()[:12]}" if data else None
        )

    return {
        "brand_colour": page.brand_colour,
        "footer_links": page.footer_links,
        "custom_css": page.custom_css,
        "logo": image(page.logo, page.logo_type),
        "favicon": image(page.favicon, page.favicon_type),
    }
