"""The text the ledger accepts (domain/rules/text.py), and how odd stored text is shown."""

from __future__ import annotations

import json

import pytest

from api.edge import strict_json, wants_views
from domain.rules.text import clean_text, displayable, is_clean_line


@pytest.mark.parametrize("text", [
    "nul \x00 ici", "échappement \x1b[31m", "retour\rchariot", "c1 \x85", "csi \x9b",
    "bidi \u202e", "isolat \u2066", "séparateur \u2028", "suppr \x7f", "moitié \ud800",
])
def test_refuses_text_naming_no_input_when_it_holds_a_forbidden_character(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        clean_text(text, multiline=True, max_length=100)
    assert text not in str(refused.value)


def test_accepts_line_feeds_and_tabs_when_the_text_is_multi_line() -> None:
    assert clean_text("a\r\nb\tc", multiline=True, max_length=10) == "a\nb\tc"
    with pytest.raises(ValueError):
        clean_text("a\nb", multiline=False, max_length=10)


def test_normalises_to_nfc_when_accepted() -> None:
    assert clean_text("e\u0301té", multiline=False, max_length=10) == "été"


def test_refuses_text_when_longer_than_its_kind_allows_after_normalisation() -> None:
    with pytest.raises(ValueError, match="longer than 3"):
        clean_text("abcd", multiline=False, max_length=3)


def test_tells_a_clean_name_when_checked() -> None:
    assert is_clean_line("Transports", 200)
    assert not any(is_clean_line(v, 200) for v in ("", "a\x00", "e\u0301", 3, "x" * 201))


def test_neutralises_escapes_bidi_and_controls_when_displaying_stored_text() -> None:
    shown = displayable("Veto \x1b[2J\x1b[31mrouge\x1b[0m \u202eelbatpecca\u202c\n\x00fin\ud800")
    assert shown == "Veto rouge elbatpecca \ufffdfin\ufffd"
    assert displayable("deux\nlignes\x07", multiline=True) == "deux\nlignes\ufffd"


@pytest.mark.parametrize("body", [
    b'{"x": NaN}', b'{"x": Infinity}', b'{"x": -Infinity}', b'{"x": 1e999}',
    b'{"x": "\\ud800"}', b'{"\\udfff": 1}', b'{"x": "\xff"}', b"[" * 5000 + b"]" * 5000,
    b'{"x": ' + b"9" * 5000 + b"}", b"\xef\xbb\xbf{}",
])
def test_refuses_body_as_json_decode_error_when_it_is_not_strict_json(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError) as refused:
        strict_json(body)
    assert refused.value.doc == ""  # the body is never carried along into the answer


def test_parses_body_when_it_is_strict_json() -> None:
    assert strict_json('{"texte": "été 😀", "n": 1.5}'.encode()) == {"texte": "été 😀", "n": 1.5}


@pytest.mark.parametrize(("prefer", "query", "wanted"), [
    ("wait-for-views", False, True), ("return=minimal, wait-for-views", False, True),
    ("Wait-For-Views=1", False, True), (None, True, True), (None, False, False),
    ("return=minimal", False, False),
])
def test_reads_the_read_your_writes_preference_when_given(prefer: str | None, query: bool,
                                                          wanted: bool) -> None:
    assert wants_views(prefer, query) is wanted
