"""The languages the public site, subscription pages and messages are shipped in.

Operators' own words (incident names and updates, component names) stay as written; only
the fixed words around them are translated (Flask-Babel catalogues under
``statuspage/translations``) and dates and numbers are formatted per locale by Babel. The
admin stays English.

Which language a reader gets: on the published site, a path prefix (``/de/…``) chosen
with the switcher (a page missing there answers in that language too), or, for ``/``
only, the best match of ``Accept-Language`` (the web front picks the file); on pages the
app renders, ``?lang=``, then ``Accept-Language``,
then the page's default language. Feeds, social posts and emails speak the page's
default language.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale

DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself, as the switcher shows it
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English"),
        Language("de", "Deutsch"),
        Language("fr", "Français"),
        Language("es", "Español"),
        Language("ja", "日本語"),
        Language("ar", "العربية", rtl=True),
    )
}

babel = Babel()


def best_match(header: str | None) -> str | None:
    """The shipped language an ``Accept-Language`` header prefers, if any (``de-AT``
    matches ``de``; ``q=0`` refuses)."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and quality > 0:
            choices.append((-quality, index, code))
    return min(choices)[2] if choices else None


def _select() -> str:
    if not has_request_context() or request.blueprint in ("admin", "api", "integrations"):
        return g.get("page_language") or DEFAULT
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return best_match(request.headers.get("Accept-Language")) or g.get("page_language") or DEFAULT


def init_app(app: Flask) -> None:
    babel.init_app(app, default_locale=DEFAULT, locale_selector=_select)
    app.jinja_env.globals.update(languages=LANGUAGES, language=current)


def page_language() -> None:
    """A ``before_request`` hook for public pages the app renders: the page's default
    language for readers whose browser asks for none we ship."""
    from statuspage.models import Page

    g.page_language = Page.get().default_language


def current() -> Language:
    locale = get_locale()
    return LANGUAGES.get(locale.language if locale else DEFAULT, LANGUAGES[DEFAULT])


@contextmanager
def speaking(code: str | None) -> Iterator[Language]:
    """Render in ``code`` (a shipped language, else the default) whatever the request
    asked for: workers render the site once per language and messages in the page's."""
    language = LANGUAGES.get(code or DEFAULT, LANGUAGES[DEFAULT])
    with force_locale(language.code):
        yield language
