"""Make untrusted text safe to print to a terminal.

Document text, titles, paths and metadata come from files a user did not write. Printed raw,
an ESC sequence could recolour, retitle or rewrite the terminal, a carriage return or
backspace could hide text, and a bidi override could reorder what is shown. Every string from
a document passes through :func:`terminal_safe` before the CLI prints it.
"""

from __future__ import annotations

import re

__all__ = ["json_terminal_safe", "terminal_safe"]

# C0 controls except tab/newline, DEL, C1 controls, and the Unicode bidi embedding/override/
# isolate characters that can visually reorder text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# What json.dumps(ensure_ascii=False) leaves raw that a terminal still obeys.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_terminal_safe(text: str) -> str:
    """Escape DEL, C1 controls and bidi marks in JSON text as ``\\uXXXX``: the same JSON value.

    Only for JSON text, where these characters can occur only inside strings (``json.dumps``
    already escapes C0 controls).
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def terminal_safe(text: str, *, single_line: bool = False) -> str:
    """Replace control and bidi-override characters with visible ``\\xNN``/``\\uNNNN`` escapes.

    With ``single_line`` newlines and tabs become spaces too (titles, paths).
    """
    if single_line:
        text = text.replace("\n", " ").replace("\t", " ")
    return _UNSAFE.sub(_visible, text)
