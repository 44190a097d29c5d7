"""Make untrusted text safe to print to a terminal.

Document text, titles, paths and metadata come from files a user did not write. Printed raw,
an ESC sequence could recolour, retitle or rewrite the terminal, a carriage return or
backspace could hide text, and a bidi override could reorder what is shown. Every string from
a document passes through :func:`terminal_safe` before the CLI prints it.
"""

from __future__ import annotations

import re

__all__ = ["json_terminal_safe", "terminal_safe"]

# Unicode's format characters (general category Cf: bidi marks, embeddings, overrides and
# isolates including U+061C ARABIC LETTER MARK, zero-width spaces and joiners, invisible
# operators, the byte-order mark, interlinear annotations, tag characters), listed as of
# Unicode 15, plus the line and paragraph separators. They are invisible or reorder text, so
# printed raw they let a document hide or disguise what a terminal shows. U+200C and U+200D
# (zero-width non-joiner and joiner) are left alone: Persian, Arabic and Indic text and emoji
# need them to render correctly, and they neither reorder nor hide text.
_FORMAT = ("\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b"
           "\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
           "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
           "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
# C0 controls except tab/newline, DEL, C1 controls, and the format characters above.
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells characters beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# What json.dumps(ensure_ascii=False) leaves raw that a terminal still obeys.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_FORMAT}]")


def json_terminal_safe(text: str) -> str:
    """Escape DEL, C1 controls and format characters in JSON text as ``\\uXXXX``: the same
    JSON value.

    Only for JSON text, where these characters can occur only inside strings (``json.dumps``
    already escapes C0 controls).
    """
    return _JSON_UNSAFE.sub(_json_escape, text)


def terminal_safe(text: str, *, single_line: bool = False) -> str:
    """Replace control and format characters (bidi, zero-width, tags) with visible ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN`` escapes.

    With ``single_line`` newlines and tabs become spaces too (titles, paths).
    """
    if single_line:
        text = text.replace("\n", " ").replace("\t", " ")
    return _UNSAFE.sub(_visible, text)
