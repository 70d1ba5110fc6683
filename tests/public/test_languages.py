"""The public site in every shipped language: a subtree per language, "/" chosen by
Accept-Language, the page's default at the root, operators' words as written."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import feedparser
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from lxml import html

from statuspage.extensions import db
from statuspage.i18n import LANGUAGES, best_match, speaking
from statuspage.incidents import maintenance, service
from statuspage.lib.clock import now
from statuspage.models import Page
from statuspage.publishing.snapshot import publish
from statuspage.publishing.uptime import format_percent
from tests.conftest import ROOT


def page(client, path: str, **headers: str):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    return response, html.fromstring(response.data)


def test_accept_language_chooses_the_home_page(app, client, components):
    service.open_incident(
        actor=None,
        name="Checkout errors",
        impact="major",
        body="We are **looking** into it.",
        components={components["API"]: "partial_outage"},
    )
    publish()
    response, doc = page(client, "/", **{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert doc.get("lang") == "de" and doc.get("dir") == "ltr"
    assert response.headers["Content-Language"] == "de"
    assert "Accept-Language" in response.headers["Vary"]
    text = doc.text_content()
    assert "Aktuelle Störungen" in text and "Teilausfall" in text
    assert "Checkout errors" in text and "We are looking into it." in text  # as written
    assert doc.cssselect("h1#banner-h")[0].text == "Teilweiser Systemausfall"
    # Links stay in the language.
    assert doc.cssselect("header.site nav a")[0].get("href") == "/de/history"

    _, english = page(client, "/", **{"Accept-Language": "nl, en;q=0.8"})
    assert english.get("lang") == "en" and "Current incidents" in english.text_content()
    _, plain = page(client, "/")
    assert plain.get("lang") == "en"


def test_every_language_has_its_subtree_and_arabic_reads_right_to_left(app, client, components):
    incident = service.open_incident(actor=None, name="Login slow", impact="minor", body="Slow.")
    publish()
    for code, language in LANGUAGES.items():
        _, doc = page(client, f"/{code}/")
        assert doc.get("lang") == code and doc.get("dir") == language.direction
        _, permalink = page(client, f"/{code}/incidents/{incident.id}")
        assert "Login slow" in permalink.text_content()
        switcher = permalink.cssselect("nav.languages a")
        assert [a.get("href") for a in switcher] == [
            f"/{other}/incidents/{incident.id}" for other in LANGUAGES
        ]
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in permalink.cssselect('link[rel="alternate"][hreflang]')
        }
        assert alternates["x-default"] == f"http://status.test/incidents/{incident.id}"
        assert alternates[code] == f"http://status.test/{code}/incidents/{incident.id}"
    _, arabic = page(client, "/ar/history")
    assert arabic.get("dir") == "rtl" and "سجل الحوادث" in arabic.text_content()
    _, japanese = page(client, "/ja/")
    assert "一部サービスが低下しています" in japanese.text_content()


def test_dates_and_numbers_follow_the_language(app, client, components):
    start = (now() + timedelta(days=3)).replace(hour=18, minute=5, second=0, microsecond=0)
    maintenance.schedule(
        actor=None,
        name="Database upgrade",
        body="Upgrade.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=1),
        components=[components["API"]],
    )
    publish()
    _, german = page(client, "/de/")
    window = german.cssselect("p.window")[0].text_content()
    assert f"{start.day}. " in window and "18:05 UTC" in window and window.startswith("Geplant")
    _, japanese = page(client, "/ja/")
    assert f"{start.year}年{start.month}月{start.day}日 18:05 UTC" in japanese.text_content()
    with speaking("fr"):
        assert format_percent(99.5) == "99,50\xa0%"  # a no-break space before the sign
    with speaking("de"):
        assert format_percent(99.5) == "99,50\xa0%"
    with speaking("ja"):
        assert format_percent(99.5) == "99.50%"


def test_the_default_language_is_a_setting_and_speaks_in_feeds(app, client, components):
    page_row = Page.get()
    page_row.default_language = "fr"
    db.session.commit()
    service.open_incident(actor=None, name="API errors", impact="major", body="Looking.")
    publish()
    _, root = page(client, "/")
    assert root.get("lang") == "fr" and "Incidents en cours" in root.text_content()
    _, english = page(client, "/", **{"Accept-Language": "en"})
    assert english.get("lang") == "en"
    feed = feedparser.parse(client.get("/history.rss").data)
    assert not feed.bozo and feed.feed.language == "fr"
    assert feed.entries[0].title == "API errors — Investigation en cours"
    assert feed.feed.title.startswith("Historique de")


def test_best_match_reads_quality_values():
    assert best_match("fr-CA;q=0.4, ja;q=0.9, *;q=0.1") == "ja"
    assert best_match("de;q=0, es") == "es"
    assert best_match("nl, pt") is None
    assert best_match(None) is None


def test_the_compiled_catalogues_match_their_sources():
    """The .mo files are committed so an editable install needs no build step; they must
    say exactly what the .po files say."""
    root = ROOT / "statuspage" / "translations"

    def messages(read, path):
        catalog = read(BytesIO(path.read_bytes()))
        return {_key(m.id): _key(m.string) for m in catalog if m.id}

    template = set(messages(read_po, root / "messages.pot"))
    for code in LANGUAGES:
        if code == "en":
            continue
        folder = root / code / "LC_MESSAGES"
        wanted = messages(read_po, folder / "messages.po")
        assert messages(read_mo, folder / "messages.mo") == wanted, code
        assert set(wanted) == template, code
        untranslated = [
            k for k, v in wanted.items() if not v or (isinstance(v, tuple) and not all(v))
        ]
        assert not untranslated, f"{code}: untranslated messages {untranslated}"


def test_the_template_holds_every_text_the_code_marks():
    """A text wrapped in the code but missing from messages.pot would never be translated:
    extracting again (as the README says) must give exactly the committed template."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    extracted = {
        _key(message)
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords
        )
    }
    template = read_po(BytesIO((ROOT / "statuspage/translations/messages.pot").read_bytes()))
    assert extracted == {_key(m.id) for m in template if m.id}


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value
