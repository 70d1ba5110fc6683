"""What text may enter, for every entry point: the write API, the admin's and the public
forms, the CLI and the inbox's intake. The OpenAPI document publishes the same rules as
patterns, and the renderers use the cleaners below on rows stored before the rules held.

- A **body** (a message, description, postmortem, template text) is any text without
  control characters: line breaks (LF, CRLF or CR, stored as LF) and tabs only.
- A **name** (an incident title, a component, group, page or template name) is one line of
  plain text: no control characters, no line or paragraph separators, and no HTML tag, i.e.
  no ``<`` directly followed by a letter, ``/``, ``!`` or ``?`` (``a < b`` and ``<5%`` are
  fine). Feed titles, email subjects and posts then carry exactly what was typed.

Customers' posts read by the listening pollers are never refused: ``strip_controls``
cleans them instead.
"""

from __future__ import annotations

import html
import re
from typing import Any

import nh3
from wtforms import Field
from wtforms.validators import ValidationError as FieldError

from statuspage.errors import ValidationError

# The classes below are spelt so that Python and ECMA-262 (JSON Schema) read them alike.
_CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"  # Cc but tab, LF, CR
_BREAKS = r"\u000a\u000d\u2028\u2029"
_NOT_IN_LINE = r"\u0009" + _CONTROLS + _BREAKS
# White space that str.strip() removes and that a name may hold (controls aside).
_SPACE = r" \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_TAG_START = r"A-Za-z/!?"

_BODY_BAD = re.compile(f"[{_CONTROLS}]")
_LINE_BREAK = re.compile(f"[{_BREAKS}]")
_LINE_BAD = re.compile(f"[{_NOT_IN_LINE}]")
_TAG = re.compile(f"<[{_TAG_START}]")

# A name: ordinary characters, and runs of "<" each followed by something that starts no
# tag; at least one character that is not white space.
_PLAIN = f"[^<{_NOT_IN_LINE}]"
_AFTER_LT = f"<+[^<{_TAG_START}{_NOT_IN_LINE}]"
_VISIBLE = f"[^<{_SPACE}{_NOT_IN_LINE}]"
LINE_PATTERN = f"^[{_SPACE}]*(?:{_VISIBLE}|{_AFTER_LT}|<+$)(?:{_PLAIN}|{_AFTER_LT})*<*$"
TEXT_PATTERN = f"^[^{_CONTROLS}]*$"
# A body that must say something: at least one character that is not white space.
_BLANKS = f"{_SPACE}{_BREAKS}\\u0009"
FILLED_TEXT_PATTERN = f"^[{_BLANKS}]*[^{_CONTROLS}{_BLANKS}][^{_CONTROLS}]*$"

_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NEWLINES = re.compile(r"\r\n?")


def storable(value: str) -> bool:
    """False for text no database column can hold: NUL, or unpaired UTF-16 surrogates
    (which JSON can spell but UTF-8 cannot)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def _typed(field: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: "must be text"})
    if not storable(value):
        raise ValidationError({field: "contains characters that cannot be stored"})
    return value


def _sized(field: str, value: str, limit: int, required: bool) -> str:
    if len(value) > limit:
        raise ValidationError({field: f"must be at most {limit} characters"})
    text = value.strip()
    if required and not text:
        raise ValidationError({field: "must not be empty"})
    return text


def check_text(field: str, value: object, limit: int, *, required: bool = True) -> str:
    """A body, stripped and with LF line breaks; raises ValidationError naming ``field``."""
    text = _typed(field, value)
    bad = _BODY_BAD.search(text)
    if bad:
        raise ValidationError(
            {
                field: f"must not contain control characters ({_code(bad.group())}); "
                "line breaks and tabs are fine"
            }
        )
    return _NEWLINES.sub("\n", _sized(field, text, limit, required))


def check_line(field: str, value: object, limit: int, *, required: bool = True) -> str:
    """A name: one line of plain text, stripped; raises ValidationError naming ``field``."""
    text = _typed(field, value)
    if _LINE_BREAK.search(text):
        raise ValidationError({field: "must be a single line"})
    bad = _LINE_BAD.search(text)
    if bad:
        raise ValidationError(
            {field: f"must not contain control characters ({_code(bad.group())})"}
        )
    tag = _TAG.search(text)
    if tag:
        raise ValidationError(
            {field: f"must be plain text: {tag.group()!r} would start an HTML tag"}
        )
    return _sized(field, text, limit, required)


def strip_controls(text: str) -> str:
    """Text with LF line breaks and every other control character (but tab) removed."""
    return _BODY_BAD.sub("", _NEWLINES.sub("\n", text))


def without_markup(text: str) -> str:
    """Text with every tag removed (and the content of script and style), until none is
    left, so an escaped tag that unescaping revives goes too."""
    for _ in range(5):
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        if cleaned == text:
            break
        text = cleaned
    return text


def one_line(text: str) -> str:
    """A stored name as one line without control characters, whatever it holds (rows
    stored before these rules, or written around them): for subjects and messages, whose
    channels escape markup their own way."""
    return re.sub(r"\s{2,}", " ", _LINE_BAD.sub(" ", text or "")).strip()


def plain_line(text: str) -> str:
    """A stored name as one line of plain text, markup removed: for feed titles, which
    readers would show or refuse as HTML."""
    return one_line(_TAG.sub(lambda m: "< " + m.group()[1:], without_markup(text or "")))


def xml_safe(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (most C0 controls, U+FFFE...)."""
    return _XML_BAD.sub("", text)


class PlainText:
    """A WTForms validator for a body field: the form shows, on the field, the message
    the API would name it with."""

    check = staticmethod(check_text)

    def __init__(self, limit: int, *, required: bool = True) -> None:
        self.limit, self.required = limit, required

    def __call__(self, _form: Any, field: Field) -> None:
        try:
            self.check(field.name, field.data, self.limit, required=self.required)
        except ValidationError as exc:
            raise FieldError(next(iter(exc.errors.values()))) from None


class PlainLine(PlainText):
    """A WTForms validator for a name field."""

    check = staticmethod(check_line)
