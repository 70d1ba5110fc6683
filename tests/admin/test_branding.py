"""Branding: a logo and favicon, a brand colour held to WCAG contrast, footer links and
custom CSS that cannot reach another host, applied to the page and to emails."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

import pytest
from lxml import html

from statuspage import branding
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.models import AuditEvent, Page
from statuspage.publishing.snapshot import publish
from tests.signin import csrf_token, login


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG (red pixels), built by hand so the tests need no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        branding.PNG
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


HOSTILE_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
 onload="alert(1)" viewBox="0 0 10 10"><script>alert(1)</script>
<image href="https://tracker.example/pixel.png" width="1" height="1"/>
<a xlink:href="javascript:alert(1)"><rect width="10" height="10" fill="#0969da"/></a></svg>"""


def test_a_colour_white_text_cannot_read_on_is_refused_with_a_darker_suggestion():
    assert branding.check_colour("#0969DA") == "#0969da"
    assert branding.check_colour("") is None
    with pytest.raises(ValidationError) as refused:
        branding.check_colour("#ffcc00")
    message = refused.value.errors["brand_colour"]
    assert "contrast of 1.5:1" in message and "4.5:1" in message
    suggestion = message.rsplit(" ", 1)[-1].rstrip(")")
    assert branding.contrast_with_white(suggestion) >= 4.5
    assert branding.check_colour(suggestion) == suggestion
    with pytest.raises(ValidationError):
        branding.check_colour("red")


@pytest.mark.parametrize(
    "css",
    [
        "@import url(https://fonts.example/a.css);",
        "body { background: url(https://tracker.example/p.png) }",
        "body { background: url('//tracker.example/p.png') }",
        "body { background: \\75 rl(https://tracker.example/p.png) }",  # an escaped url(
        "body { background: u/**/rl(x) }".replace("u/**/rl", "\\55 RL"),
        "h1 { background-image: image-set('https://e.example/a.png' 1x) }",
        "@font-face { font-family: x; src: url(/font.woff) }",
        "</style><script>alert(1)</script>",
        "a { color: red }" * 2000,
    ],
)
def test_css_that_could_reach_another_host_is_refused(css):
    with pytest.raises(ValidationError) as refused:
        branding.check_css(css)
    assert "custom_css" in refused.value.errors


def test_css_with_inline_images_and_plain_rules_is_kept():
    css = "h1 { letter-spacing: .02em }\n.x { background: url(data:image/png;base64,AAAA) }"
    assert branding.check_css(css) == css


def test_a_logo_is_a_png_or_a_sanitised_svg():
    assert branding.check_image("logo", png(), branding.MAX_LOGO).type == "image/png"
    clean = branding.check_image("logo", HOSTILE_SVG, branding.MAX_LOGO)
    assert clean.type == "image/svg+xml"
    for gone in (b"<script", b"onload", b"javascript:", b"tracker.example"):
        assert gone not in clean.data
    assert b'fill="#0969da"' in clean.data
    for bad, reason in [
        (b"GIF89a" + b"\x00" * 20, "must be a PNG or an SVG"),
        (png()[:20], "not a readable PNG"),
        (png(5000, 1), "at most 4096"),
        (b"<svg" + b" " * branding.MAX_LOGO, "at most 512 KiB"),
        (b"<svg><unclosed", "not a readable SVG"),
    ]:
        with pytest.raises(ValidationError) as refused:
            branding.check_image("logo", bad, branding.MAX_LOGO)
        assert reason in refused.value.errors["logo"]
    assert branding.check_image("favicon", b"\x00\x00\x01\x00" + b"\x00" * 30, 1024, True).name == (
        "ico"
    )


def test_footer_links_are_labelled_web_addresses():
    assert branding.check_links(
        "Docs | https://docs.example.com/\n\nHelp|https://help.example"
    ) == [
        {"label": "Docs", "url": "https://docs.example.com/"},
        {"label": "Help", "url": "https://help.example"},
    ]
    for bad in ["Docs https://docs.example", "Bad | javascript:alert(1)", "<b>x</b> | https://a.b"]:
        with pytest.raises(ValidationError):
            branding.check_links(bad)


@pytest.fixture
def admin(client, cast):
    assert login(client, "alice@example.com").status_code == 302
    return client


def test_an_admin_brands_the_page_and_it_is_published(app, admin, components):
    token = csrf_token(admin, "/admin/settings")
    response = admin.post(
        "/admin/settings/branding",
        data={
            "csrf_token": token,
            "logo": (BytesIO(png()), "logo.png"),
            "favicon": (BytesIO(HOSTILE_SVG), "icon.svg"),
            "brand_colour": "#0a3069",
            "footer_links": "Docs | https://docs.example.com/",
            "custom_css": "h1 { letter-spacing: .02em }",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = Page.get()
    assert (page.logo, page.logo_type, page.favicon_type) == (png(), "image/png", "image/svg+xml")
    assert "page.branding" in db.session.scalars(db.select(AuditEvent.action)).all()

    current = publish()
    doc = html.fromstring((current / "index.html").read_bytes())
    look = branding.brand(page)
    assert doc.cssselect("a.brand img")[0].get("src") == f"/brand/logo.png?v={look.version}"
    assert (
        doc.cssselect('link[rel="icon"]')[0].get("href") == f"/brand/favicon.svg?v={look.version}"
    )
    assert [a.get("href") for a in doc.cssselect("nav.links a")] == ["https://docs.example.com/"]
    css = (current / "brand.css").read_text()
    assert "--brand: #0a3069" in css and css.endswith("h1 { letter-spacing: .02em }\n")
    assert (current / "brand" / "logo.png").read_bytes() == png()
    assert b"<script" not in (current / "brand" / "favicon.svg").read_bytes()
    served = admin.get("/brand/logo.png")
    assert served.status_code == 200 and served.mimetype == "image/png"
    german = html.fromstring((current / "de" / "index.html").read_bytes())
    assert german.cssselect("nav.links")[0].get("aria-label") == "Links"
    subscribe = html.fromstring(admin.get("/subscribe").data)
    assert subscribe.cssselect("a.brand img") and subscribe.cssselect('link[href^="/brand.css"]')


def test_a_bad_value_changes_nothing_and_is_named_beside_its_field(app, admin):
    token = csrf_token(admin, "/admin/settings")
    response = admin.post(
        "/admin/settings/branding",
        data={
            "csrf_token": token,
            "logo": (BytesIO(png()), "logo.png"),
            "brand_colour": "#ffcc00",
            "custom_css": "@import url(https://e.example/x.css);",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "gives white text a contrast of 1.5:1" in body and "may not use @import" in body
    page = Page.get()
    assert (page.logo, page.brand_colour, page.custom_css) == (None, None, None)


def test_emails_carry_the_logo_and_colour(app):
    from statuspage.messages import render
    from tests.channels.test_messages import facts

    email = render(
        "email.html",
        facts(brand_colour="#0a3069", logo_url="https://status.example/brand/logo.png?v=1"),
        unsubscribe_url="u",
        manage_url="m",
    )
    doc = html.fromstring(email)
    assert doc.cssselect("img")[0].get("src") == "https://status.example/brand/logo.png?v=1"
    assert "border-top: 4px solid #0a3069" in email
