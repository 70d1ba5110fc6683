"""The one set of rules for text that enters: bodies take no control characters but line
breaks and tabs; names are one line of plain text. The OpenAPI patterns say the same."""

from __future__ import annotations

import re

import pytest

from statuspage.errors import ValidationError
from statuspage.text_rules import (
    FILLED_TEXT_PATTERN,
    LINE_PATTERN,
    TEXT_PATTERN,
    check_line,
    check_text,
    one_line,
    plain_line,
    strip_controls,
    xml_safe,
)

NAMES = [
    ("Checkout errors", True),
    ("API < 99% uptime", True),
    ("<5% of requests fail", True),
    ("Latency > 2 s", True),
    ("a<<5", True),
    ("ends with <", True),
    ("Résumé service 東京", True),
    ("  padded  ", True),
    ("a<b", False),
    ("<b>Down</b>", False),
    ("</x", False),
    ("<!-- x", False),
    ("<?php", False),
    ("a\u000bb", False),
    ("a\tb", False),
    ("a\r\nb", False),
    ("a\nb", False),
    ("a\u0085b", False),
    ("a\u2028b", False),
    ("a\u007fb", False),
    ("", False),
    ("   ", False),
    ("\u3000", False),
    ("nul\u0000", False),
]
BODIES = [
    ("We are *investigating*.", True),
    ("line one\nline two\n\n- a\n- b", True),
    ("windows\r\nline breaks", True),
    ("a\ttab", True),
    ("<b>markup</b> is Markdown's business", True),
    ("a\u2028b", True),
    ("a\u000bb", False),
    ("bell\u0007", False),
    ("escape \u001b[31m", False),
    ("del\u007f", False),
    ("c1\u0085", False),
    ("nul\u0000", False),
    ("", False),
    (" \n\t ", False),
]


def accepted(check, value: str, **kwargs) -> bool:
    try:
        check("field", value, 1000, **kwargs)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("value, ok", NAMES)
def test_a_name_is_one_line_of_plain_text(value, ok):
    assert accepted(check_line, value) is ok
    # The OpenAPI document publishes exactly the same rule.
    assert bool(re.fullmatch(LINE_PATTERN, value)) is ok


@pytest.mark.parametrize("value, ok", BODIES)
def test_a_body_takes_line_breaks_and_tabs_but_no_other_control_character(value, ok):
    assert accepted(check_text, value) is ok
    assert bool(re.fullmatch(FILLED_TEXT_PATTERN, value)) is ok
    optional_ok = ok or not value.strip(" \n\t")
    assert accepted(check_text, value, required=False) is optional_ok
    assert bool(re.fullmatch(TEXT_PATTERN, value)) is optional_ok


def test_errors_name_the_field_and_the_character():
    with pytest.raises(ValidationError) as exc:
        check_text("body", "a\u000bb", 100)
    assert exc.value.errors == {
        "body": "must not contain control characters (U+000B); line breaks and tabs are fine"
    }
    with pytest.raises(ValidationError) as exc:
        check_line("name", "a\r\nb", 100)
    assert exc.value.errors == {"name": "must be a single line"}
    with pytest.raises(ValidationError) as exc:
        check_line("name", "<b>Down", 100)
    assert exc.value.errors == {"name": "must be plain text: '<b' would start an HTML tag"}


def test_bodies_are_stored_with_lf_line_breaks_and_names_stripped():
    assert check_text("body", " a\r\nb\rc ", 100) == "a\nb\nc"
    assert check_line("name", "  Checkout errors ", 100) == "Checkout errors"


def test_a_limit_counts_what_was_sent():
    assert accepted(check_line, "x" * 1000)
    assert not accepted(check_line, "x" * 999 + "  ")


def test_cleaners_make_stored_rows_safe_to_render():
    assert plain_line("a\u000bb\r\nc <b>bold</b>\u2028d") == "a b c bold d"
    assert one_line("a\u000bb\r\nc <b>bold</b>\u2028d") == "a b c <b>bold</b> d"
    assert plain_line("a < b &amp; c") == "a < b & c"
    assert strip_controls("a\u0000b\u001bc\r\nd\te") == "abc\nd\te"
    assert xml_safe("a\u000bb\ufffec\td\U0001f600") == "abc\td\U0001f600"
