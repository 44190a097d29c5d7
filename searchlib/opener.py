"""From a hit to its source: which program opens an article's file, at which line.

:func:`plan_open` decides, :func:`run_plan` carries it out. The decision uses only the
user's environment (``$VISUAL``, ``$EDITOR``, the platform's opener) and the path the indexer
recorded; nothing taken from an article's text or metadata is ever run or handed to a shell.
Programs get an argument list (``subprocess`` without a shell), the file is always passed as
an absolute path (so a name starting with ``-`` cannot read as an option), and a URL from an
article's metadata is only ever returned for printing, never opened.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import SearchlibError
from .models import Article

__all__ = ["LINE_EDITORS", "OpenError", "OpenPlan", "hit_line", "matched_line", "plan_open",
           "run_plan", "source_file"]

#: Editors that take ``+LINE`` before the file name to start at that line.
LINE_EDITORS = frozenset({
    "vi", "vim", "nvim", "gvim", "view", "ex", "nano", "pico", "emacs", "emacsclient",
    "micro", "kak", "joe", "jed", "ne", "mg", "mcedit", "vis", "amp",
})
# Files whose line numbers mean nothing in an editor (compressed).
_NO_LINES = (".gz",)
# Source files larger than this are not scanned for the matched line.
_SCAN_LIMIT = 32 * 1024 * 1024
_WORD = re.compile(r"\w{4,}")


class OpenError(SearchlibError):
    """The article cannot be opened (no file, no program to open it with)."""


@dataclass(frozen=True)
class OpenPlan:
    """What opening an article means here: a program to run, or a URL to show."""

    kind: Literal["editor", "opener", "url"]
    """``editor``: ``$VISUAL``/``$EDITOR`` on the file; ``opener``: the system's opener
    (``xdg-open``, ``open``); ``url``: no file, only the article's URL to print."""
    argv: tuple[str, ...] = ()
    """The argument list to run (empty for ``url``)."""
    path: str | None = None
    """The source file, when there is one."""
    line: int | None = None
    """The 1-based line the editor is asked to start at, when it can."""
    url: str | None = None
    """The article's URL when known."""

    @property
    def terminal(self) -> bool:
        """True when the program uses the terminal (a full-screen app must step aside)."""
        return self.kind == "editor"


def source_file(article_path: str) -> str | None:
    """The file an article came from, or None when it no longer exists.

    A record of a multi-article file (JSON list, JSONL) has the key ``path#N``; the file is
    ``path`` then. A file whose own name contains ``#`` is found as it is.
    """
    if os.path.isfile(article_path):
        return os.path.abspath(article_path)
    base, sep, number = article_path.rpartition("#")
    if sep and number.isdigit() and os.path.isfile(base):
        return os.path.abspath(base)
    return None


def matched_line(path: str, words: Sequence[str], context: str = "") -> int | None:
    """The 1-based line of ``path`` where the match most likely is, or None.

    ``words`` are the matched words as the article shows them (the highlighted parts of a
    snippet); ``context`` is text around the match (the snippet). Of the lines holding one of
    ``words`` (whole word, any case), the one sharing most words of ``context`` wins, then
    the earliest: in a file of many articles, the line of the right article, not the first
    article that uses the word.
    """
    if not words or path.endswith(_NO_LINES):
        return None
    try:
        if os.path.getsize(path) > _SCAN_LIMIT:
            return None
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    # Longest first, so that "Islamic State" wins over "Islamic" on the same line.
    alternatives = [re.escape(w.strip()) for w in sorted(set(words), key=len, reverse=True)
                    if w.strip()]
    if not alternatives:
        return None
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
    wanted = {w.lower() for w in _WORD.findall(context)}
    best: tuple[int, int] | None = None  # (-shared words, line number)
    for number, line in enumerate(lines, 1):
        if not pattern.search(line):
            continue
        shared = len(wanted & {w.lower() for w in _WORD.findall(line)}) if wanted else 0
        if best is None or (-shared, number) < best:
            best = (-shared, number)
    return best[1] if best else None


def hit_line(path: str, body: str, snippet: str,
             highlights: Sequence[tuple[int, int]]) -> int | None:
    """The line of ``path`` holding a hit's first match (see :func:`matched_line`).

    ``body`` is the article's stored text, ``snippet`` and ``highlights`` the hit's. The
    sentence around the first match (:func:`searchlib.cite.quote_for`) is the context that
    tells apart the lines using the matched word.
    """
    from .cite import quote_for

    if not highlights:
        return None
    quote = quote_for(body, snippet, highlights)
    words = [snippet[a:b] for a, b in highlights]
    return matched_line(path, words, quote.text if quote.matched else snippet)


def _editor_argv(command: str, path: str, line: int | None) -> tuple[tuple[str, ...], int | None]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise OpenError(f"cannot read the editor command {command!r}: {exc}") from None
    if not argv:
        raise OpenError("the editor command is empty; set $VISUAL or $EDITOR")
    name = os.path.basename(argv[0])
    if line is not None and name in LINE_EDITORS:
        return (*argv, f"+{line}", path), line
    return (*argv, path), None


def _system_opener(platform: str, which: Callable[[str], str | None]) -> str | None:
    candidates = ["open"] if platform == "darwin" else ["xdg-open", "gio"]
    for name in candidates:
        found = which(name)
        if found:
            return found
    return None


def plan_open(article: Article, *, line: int | None = None, editor: bool = True,
              env: Mapping[str, str] | None = None, platform: str | None = None,
              which: Callable[[str], str | None] = shutil.which) -> OpenPlan:
    """Decide how to open ``article``: its file in the editor or system opener, or its URL.

    ``line`` is where the editor should start (editors in :data:`LINE_EDITORS` only).
    ``editor=False`` skips ``$VISUAL``/``$EDITOR`` for the system opener. Without a file the
    plan is the URL to show; without either, :class:`OpenError`.
    """
    env = os.environ if env is None else env
    platform = platform or sys.platform
    path = source_file(article.path)
    url = article.url if isinstance(article.url, str) and article.url.strip() else None
    if path is None:
        if url:
            return OpenPlan("url", url=url.strip())
        raise OpenError(f"the source file of {article.id} is gone ({article.path}) and the "
                        "article has no URL")
    command = (env.get("VISUAL") or env.get("EDITOR") or "").strip() if editor else ""
    if command:
        argv, used_line = _editor_argv(command, path, line)
        return OpenPlan("editor", argv, path=path, line=used_line, url=url)
    opener = _system_opener(platform, which)
    if opener is None:
        raise OpenError(f"no program to open {path} with: set $VISUAL or $EDITOR "
                        "(or install xdg-utils)")
    argv = (opener, "open", path) if os.path.basename(opener) == "gio" else (opener, path)
    return OpenPlan("opener", argv, path=path, url=url)


def run_plan(plan: OpenPlan) -> int:
    """Run the plan's program (never through a shell) and return its exit status.

    An editor gets the terminal and is waited for; the system opener's own chatter is
    silenced (it hands the file to another program and returns).
    """
    if not plan.argv:
        raise OpenError("nothing to run: the article has only a URL")
    quiet = subprocess.DEVNULL if plan.kind == "opener" else None
    try:
        completed = subprocess.run(list(plan.argv), check=False, shell=False,
                                   stdout=quiet, stderr=quiet)
    except FileNotFoundError:
        raise OpenError(f"{plan.argv[0]}: command not found (check $VISUAL/$EDITOR)") from None
    except PermissionError:
        raise OpenError(f"{plan.argv[0]}: permission denied") from None
    return completed.returncode
