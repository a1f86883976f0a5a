"""What text the ledger accepts, and how text that should not be there is shown (D13).

Standard library only. The API refuses, before anything is recorded, text that a view or a
reader's terminal could not handle honestly: a NUL (PostgreSQL text refuses it), a lone
surrogate (not Unicode text: it cannot be encoded), C0/C1 control characters (ANSI escapes
rewrite a terminal; a carriage return hides what precedes it), line or paragraph separators
in one-line fields, and the bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069) that make a label read otherwise than it is stored. Accepted text is NFC, so
two spellings of « é » are one. The charter's rules reuse `is_clean_line` for the names they
hold; the views display older stored text through `displayable`, which neutralises the same
characters instead of refusing them.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_SURROGATE = re.compile("[\ud800-\udfff]")
# One-line fields: no control character at all.
_LINE_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
# Multi-line text: line feeds and tabs are text; every other control character is not.
_TEXT_FORBIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
# ANSI/VT escape sequences (CSI … final byte, OSC … BEL or ST, two-character escapes).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")


def clean_text(value: str, *, multiline: bool, max_length: int) -> str:
    """`value` in NFC (CRLF as LF in multi-line text), or ValueError saying what is wrong.

    The error names the offending code point, never the text itself, so a refusal cannot
    echo the input back.
    """
    if _SURROGATE.search(value):
        raise ValueError("the text holds a lone surrogate: it is not Unicode text")
    if multiline:
        value = value.replace("\r\n", "\n")
    value = unicodedata.normalize("NFC", value)
    found = (_TEXT_FORBIDDEN if multiline else _LINE_FORBIDDEN).search(value)
    if found:
        raise ValueError(f"the text holds the character U+{ord(found.group()):04X} (a control "
                         "or bidirectional formatting character)")
    if len(value) > max_length:
        raise ValueError(f"the text is longer than {max_length} characters")
    return value


def is_clean_line(value: object, max_length: int) -> bool:
    """Whether `value` is a non-empty one-line name the API would have accepted as it is."""
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        return False
    try:
        return clean_text(value, multiline=False, max_length=max_length) == value
    except ValueError:
        return False


def displayable(value: str, *, multiline: bool = False) -> str:
    """`value` safe to show: escape sequences dropped, bidirectional controls removed, other
    control characters and lone surrogates shown as U+FFFD; in a one-line label, line breaks
    and tabs become spaces. For text stored before the API refused such characters."""
    value = _ANSI.sub("", value)
    value = re.sub(f"[{BIDI_CONTROLS}]", "", value)
    value = _SURROGATE.sub("\ufffd", value)
    if not multiline:
        value = re.sub("[\r\n\t\u2028\u2029]+", " ", value)
    else:
        value = value.replace("\r\n", "\n")
    return (_TEXT_FORBIDDEN if multiline else _LINE_FORBIDDEN).sub("\ufffd", value)
