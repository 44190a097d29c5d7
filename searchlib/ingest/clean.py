"""Cleaning stage: turn a raw article (text, markdown, HTML or a JSON body) into a CleanedArticle.

The rules (which lines are boilerplate, what a byline or a dateline looks like, ...) live in the
shipped ``data/cleaning.yaml``, which user files can extend (loaded and compiled by
:mod:`searchlib.ingest.cleaning_rules`); this module implements the rule
*kinds*: inline substitutions, dropped lines, footer cuts, related-link lists, header analysis
(title, subtitle, byline, dateline), teaser removal and paragraph re-joining.

Nothing here may lose article text: every rule removes whole lines that match a known boilerplate
shape, and anything not recognised is kept.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from searchlib.models import CleanedArticle, SourceDocument

from .cleaning_rules import CleaningRules, default_rules

__all__ = ["CleaningRules", "clean_document", "clean_text", "normalize_text"]

# --------------------------------------------------------------------------------------------
# normalize_text
# --------------------------------------------------------------------------------------------


def _build_translation() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for code in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        if chr(code) not in "\n\t":
            table[code] = None
    # Line-ish controls become line breaks rather than vanishing, so words stay apart.
    for code in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x2028):
        table[code] = "\n"
    table[0x2029] = "\n\n"
    # Bidi embeddings/overrides/isolates and marks, zero-width space, word joiner, BOM and soft
    # hyphen: invisible, and they split words for the indexer ("Teh\u00adran").
    for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x200B,
                 0x2060, 0xFEFF, 0xAD]:
        table[code] = None
    # Every other Unicode space separator is an ordinary space for search purposes.
    for code in (0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000):
        table[code] = " "
    return table


_TRANSLATION = _build_translation()
# One character class finds every character to map: much faster than str.translate with a dict.
_SPECIAL = re.compile("[" + re.escape("".join(map(chr, _TRANSLATION))) + "]")
# The ASCII bytes that are not to be mapped (deleted to see whether any others are there).
_NOT_ASCII_SPECIAL = bytes(b for b in range(128) if b not in _TRANSLATION)
_SPACES = re.compile("  +")
_BLANK_RUNS = re.compile("\n\n\n+")


def _translate(match: re.Match[str]) -> str:
    return _TRANSLATION[ord(match.group())] or ""


def normalize_text(text: str) -> str:
    """Normalise Unicode and whitespace; idempotent.

    Removes C0/C1 control characters (except newline and tab), bidi controls (U+202A-202E,
    U+2066-2069, LRM/RLM), zero-width spaces, BOM and soft hyphens; maps other space characters
    (no-break space, thin space, ...) to a plain space; turns ``\\r\\n``, ``\\r`` and other line
    separators into ``\\n``; applies NFC; collapses runs of spaces, trims every line and leaves at
    most one blank line between paragraphs. Leading and trailing blank lines are removed.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        # Of the characters to map only ASCII controls can occur, found by deleting all the
        # other bytes (the regex scan cost a quarter of this function); ASCII is NFC already.
        if text.encode("ascii").translate(None, _NOT_ASCII_SPECIAL):
            text = _SPECIAL.sub(_translate, text)
    else:
        # Stripping comes before NFC: a removed control may separate a letter from its accent.
        text = _SPECIAL.sub(_translate, text)
        text = unicodedata.normalize("NFC", text)
    # The substring tests skip regex passes that would find nothing (most texts are clean).
    if "  " in text:
        text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip(" \t") for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip("\n")


_BULLET = re.compile(r"^(?:[•*·▪◦‣]|-(?!-))\s*")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")
_LINK_SEPARATORS = re.compile(r"[\s,;|·•/-]*")
_NON_WORD = re.compile(r"[\W_]+")
_SENTENCE_END = re.compile(r"[.!?](?=[\"”’)]?(?:\s+[\"“‘'(\[A-Z0-9]|\s*$))")
_WORD_EDGE = re.compile(r"^\W+|\W+$")
_NUMBERED = re.compile(r"\d+[.)]\s")

# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------


def _key(text: str) -> str:
    """Comparison key: case-folded words only."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


def _is_repeat(line: str, title_key: str) -> bool:
    """True when ``line`` is ``title`` once or several times over."""
    if not title_key or len(line) < len(title_key) or len(line) > 8 * len(title_key) + 40:
        # The bound keeps this cheap on long paragraphs; no headline is repeated 8 times over.
        return False
    # Every word of the key is a run of word characters of the case-folded line, so a line
    # lacking one of the headline's words cannot be a repeat: most paragraphs are ruled out
    # with a few substring searches instead of building their key.
    folded = line.casefold()
    if not all(word in folded for word in title_key.split(" ")):
        return False
    key = _NON_WORD.sub(" ", folded).strip()
    if key == title_key:
        return True
    times = (len(key) + 1) // (len(title_key) + 1)
    return times > 1 and key == " ".join([title_key] * times)


def _strip_repeats(line: str, title_key: str) -> str:
    """Remove leading and trailing copies of the headline from ``line``."""
    if not title_key:
        return line
    words = line.split()
    n = len(title_key.split())
    changed = True
    while changed and len(words) > n:
        changed = False
        if _key(" ".join(words[:n])) == title_key:
            words = words[n:]
            changed = True
        if len(words) > n and _key(" ".join(words[-n:])) == title_key:
            words = words[:-n]
            changed = True
    return " ".join(words)


_REPEATED_PHRASE = re.compile(r"^(.+?)(?:\s+\1)+$")


def _collapse_repeated(line: str) -> str:
    """``"X X X"`` -> ``"X"``; other lines unchanged."""
    if len(line) > 1000:
        return line
    match = _REPEATED_PHRASE.match(line)
    return match.group(1) if match else line


def _bare(line: str) -> str:
    """The line without leading bullet marks, for matching boilerplate patterns."""
    return _BULLET.sub("", line, count=1) if line and line[0] in "•*·▪◦‣-" else line


def _is_link_only(line: str, max_words: int) -> bool:
    if "](" not in line:
        return False
    texts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        texts.append(match.group(1))
        return " "

    rest = _LINK.sub(keep, line)
    if _LINK_SEPARATORS.fullmatch(rest) is None:
        return False
    return sum(len(t.split()) for t in texts) <= max_words


@dataclass
class _Header:
    title: str | None = None
    subtitle: str | None = None
    authors: list[str] = field(default_factory=list)
    dateline: str | None = None


def _byline_authors(line: str, rules: CleaningRules, *, strict: bool) -> list[str] | None:
    """The names of a byline, or None when ``line`` is not one.

    ``strict`` applies where a headline is still expected: there "By Air, Iran Strikes ISIS" is
    a headline, so every word must be a capitalised name part and commas are not allowed.
    """
    for pattern in rules.bylines:
        match = pattern.search(line)
        if match is None:
            continue
        names_text = match.group("authors").strip()
        words = names_text.split()
        if not words or len(words) > rules.byline_max_words:
            return None
        capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
        if capitalised * 2 < len(words):
            return None
        if strict and (
            "," in names_text
            or ":" in names_text
            or any(not (w[:1].isupper() or w in ("and", "&")) for w in words)
        ):
            return None
        names = [
            _WORD_EDGE.sub("", n) for n in rules.author_separators.split(names_text)
        ]
        return [n for n in names if n]
    return None


def _looks_like_title(line: str, rules: CleaningRules) -> bool:
    return (
        len(line) <= rules.title_max_chars
        and len(line.split()) <= rules.title_max_words
        and (rules.title_reject is None or rules.title_reject.search(line) is None)
    )


def _looks_like_subtitle(line: str, rules: CleaningRules) -> bool:
    return (
        len(line) <= rules.subtitle_max_chars
        and len(line.split()) <= rules.subtitle_max_words
        and (rules.subtitle_reject is None or rules.subtitle_reject.search(line) is None)
    )


def _analyse_header(
    lines: list[str], rules: CleaningRules, title_hint: str | None
) -> _Header:
    """Find title, subtitle, byline and dateline at the top; consumed lines become blank."""
    found = _Header()
    hint_key = _key(title_hint) if title_hint else ""
    title_decided = False
    subtitle_open = False
    seen = 0
    for i, line in enumerate(lines):
        if not line:
            continue
        seen += 1
        if seen > rules.header_max_lines:
            break
        if len(line.split()) >= rules.header_prose_min_words and (
            # A long headline is still a headline; any other long line starts the body.
            title_decided or title_hint or not _looks_like_title(line, rules)
        ):
            break
        bare = _bare(line)
        authors = _byline_authors(bare, rules, strict=not title_decided and not title_hint)
        if authors is not None:
            found.authors.extend(a for a in authors if a not in found.authors)
            lines[i] = ""
            continue
        if len(line.split()) <= rules.dateline_max_words and rules.datelines.search(bare):
            found.dateline = found.dateline or line
            lines[i] = ""
            continue
        if rules.header_drop.search(bare):
            lines[i] = ""
            continue
        current = hint_key or (_key(found.title) if found.title else "")
        if current and _is_repeat(line, current):
            lines[i] = ""
            if title_hint and not title_decided:
                title_decided = subtitle_open = True
            continue
        if not title_decided:
            title_decided = True
            if not title_hint and _looks_like_title(line, rules):
                found.title = _collapse_repeated(line)
                lines[i] = ""
                subtitle_open = True
            continue
        if subtitle_open:
            subtitle_open = False
            if _looks_like_subtitle(line, rules):
                found.subtitle = line
                lines[i] = ""
    return found


def _drop_related(lines: list[str], rules: CleaningRules) -> None:
    """Remove related-link lists (heading plus items, or long runs of items)."""
    item = rules.related_item
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        if line and rules.related_headings and rules.related_headings.search(_bare(line)):
            j = i + 1
            items = 0
            while j < n:
                nxt = lines[j]
                if not nxt:
                    if items and j + 1 < n and lines[j + 1] and _is_item(lines[j + 1], rules):
                        j += 1
                        continue
                    if not items:
                        j += 1
                        continue
                    break
                if not _is_item(nxt, rules):
                    break
                items += 1
                j += 1
            if items:
                for k in range(i, j):
                    lines[k] = ""
                i = j
                continue
        if line and item is not None and rules.related_min_run > 0 and item.search(line):
            j = i
            while j < n and lines[j] and item.search(lines[j] or ""):
                j += 1
            if j - i >= rules.related_min_run:
                for k in range(i, j):
                    lines[k] = ""
            i = max(j, i + 1)
            continue
        i += 1


def _is_item(line: str | None, rules: CleaningRules) -> bool:
    if not line:
        return False
    if rules.related_item is not None and rules.related_item.search(line):
        return True
    return len(line.split()) <= rules.related_item_max_words and not re.search(
        r"[.!?:;\"”]$", line
    )


_TEASER_TAIL = 40


def _ellipsis_end(text: str, ellipsis: re.Pattern[str]) -> int | None:
    """Where the closing ellipsis of ``text`` starts, or None.

    Only the last characters are searched: scanning whole paragraphs for an end marker is the
    costliest part of teaser detection otherwise.
    """
    offset = max(0, len(text) - _TEASER_TAIL)
    match = ellipsis.search(text, offset)
    return None if match is None else match.start()


def _drop_teasers(
    paragraphs: list[str], rules: CleaningRules, title_keys: Iterable[str]
) -> list[str]:
    """Drop leading paragraphs that end in an ellipsis and begin one of the next paragraphs."""
    ellipsis = rules.teaser_ellipsis
    if ellipsis is None:
        return paragraphs
    keys = [k for k in title_keys if k]
    lasts = [k.rsplit(" ", 1)[-1] for k in keys]
    dropped: set[int] = set()
    cache: dict[int, str] = {}
    limit = min(len(paragraphs), rules.teaser_scan)
    for i in range(limit):
        text = paragraphs[i]
        end = _ellipsis_end(text, ellipsis)
        if end is None:
            # "teaser... Headline": strip headline copies, but only when the paragraph ends
            # with the headline's last word (cheap test first).
            tail = text[-60:].casefold()
            for key, last in zip(keys, lasts, strict=True):
                if last in tail and _key(text[-len(key) - 20 :]).endswith(key):
                    text = _strip_repeats(text, key)
            end = _ellipsis_end(text, ellipsis) if text != paragraphs[i] else None
        if end is None:
            continue
        prefix = _key(text[:end])
        if len(prefix) < rules.teaser_min_prefix_chars:
            continue
        for j in range(i + 1, min(len(paragraphs), i + 1 + rules.teaser_window)):
            if j not in cache:
                cache[j] = _key(paragraphs[j][: len(text) + 40])
            if cache[j].startswith(prefix):
                dropped.add(i)
                break
    return [p for i, p in enumerate(paragraphs) if i not in dropped]


def _is_hard_wrapped(lines: list[str], rules: CleaningRules) -> bool:
    """Text wrapped at a fixed width: short lines running on within blank-separated blocks.

    Text with one paragraph per line and no blank lines is never taken as wrapped: there the
    line breaks are the paragraph breaks.
    """
    content = [line for line in lines if line]
    if sum(1 for line in content if len(line) > rules.wrap_max_chars) * 10 > len(content):
        return False
    continued = blanks = 0
    for a, b in itertools.pairwise(lines):
        if a and b:
            continued += 1
        elif a and not b:
            blanks += 1
    return blanks > 0 and continued >= rules.wrap_min_lines and continued * 2 >= len(content)


_HYPHENATED = re.compile(r"[^\W\d_]-$")
# join_if_ends rules are anchored at the end of a paragraph: only its last characters are
# searched, so that testing a paragraph that keeps growing stays linear in its length.
_TAIL = 200


def _join(first: str, second: str) -> str:
    """Join two pieces of one sentence; a word hyphenated at the break stays one word."""
    if second[:1].islower() and _HYPHENATED.search(first[-2:]):
        return first + second
    return f"{first} {second}"


class _Growing:
    """A paragraph built from pieces, joined once at the end.

    Appending to a str copies it: a file of thousands of lines that all run on into one
    paragraph took quadratic time (8,000 lines: 45 s).
    """

    __slots__ = ("pieces", "tail")

    def __init__(self, text: str) -> None:
        self.pieces = [text]
        self.tail = text[-_TAIL:]

    def add(self, text: str) -> None:
        joined = _join(self.tail, text)
        # The separator _join chose ("" for a hyphenated word, else a space).
        self.pieces.append(joined[len(self.tail):len(joined) - len(text)])
        self.pieces.append(text)
        self.tail = (self.tail + joined[len(self.tail):])[-_TAIL:]

    def text(self) -> str:
        return "".join(self.pieces)


def _paragraphs(lines: list[str], rules: CleaningRules) -> list[str]:
    """Group lines into paragraphs and re-join sentences broken across lines.

    Hard-wrapped blocks are joined line by line (a short line ends its paragraph); elsewhere each
    line is a paragraph. A paragraph that ends mid-sentence is then joined to the next one when
    that starts with a lower-case letter.
    """
    wrapped = _is_hard_wrapped(lines, rules)
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[_Growing] = []
    previous = ""
    for line in lines:
        if not line:
            previous = ""
            continue
        if (
            wrapped
            and previous
            and (len(previous) >= 0.6 * width or line[0].islower())
            and _BULLET.match(line) is None
            and _NUMBERED.match(line) is None
        ):
            paragraphs[-1].add(line)
        else:
            paragraphs.append(_Growing(line))
        previous = line
    joined: list[_Growing] = []
    ends = rules.join_if_ends
    for paragraph in paragraphs:
        first = paragraph.pieces[0]
        if joined and ends is not None and first[0].islower() and ends.search(joined[-1].tail):
            joined[-1].add(first)
            joined[-1].pieces.extend(paragraph.pieces[1:])
            joined[-1].tail = (joined[-1].tail + "".join(paragraph.pieces[1:])[-_TAIL:])[-_TAIL:]
        else:
            joined.append(paragraph)
    return [p.text() for p in joined]


def _same(a: str, b: str) -> bool:
    """Equal up to case, punctuation and spacing (cheap length test first)."""
    return a == b or (abs(len(a) - len(b)) <= 8 and _key(a) == _key(b))


def _first_sentence(text: str, abbreviations: frozenset[str]) -> str:
    """The text up to the first sentence end that does not follow an abbreviation."""
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start()].rsplit(None, 1)[-1] if match.start() else ""
        word = before.lstrip("\"“‘'(")
        if match.group() == "." and (
            word.casefold() in abbreviations
            or (len(word) <= 3 and word.replace(".", "").isupper())
            or "." in word
        ):
            continue
        return text[: match.end()]
    return text


def _derive_title(paragraphs: Sequence[str], rules: CleaningRules) -> str:
    """A short title from the first sentence, for articles without a headline line."""
    if not paragraphs:
        return ""
    first = _bare(paragraphs[0])
    if rules.derive_skip is not None:
        first = rules.derive_skip.sub("", first, count=1) or first
    sentence = _first_sentence(first, rules.derive_abbreviations)
    words = sentence.split()
    if len(words) <= rules.derive_max_words:
        return sentence.rstrip(".").strip()
    cut = words[: rules.derive_max_words]
    while len(cut) > 1 and _WORD_EDGE.sub("", cut[-1]).casefold() in rules.derive_trailing_words:
        cut.pop()
    text = " ".join(cut).rstrip(",;:—–-. ")
    return f"{text}{rules.derive_ellipsis}"


class _Needles:
    """Which of the substitutions' required strings a text holds, found in one scan.

    Testing each one with ``in`` took 19 passes over every text (a sixth of the cleaning:
    most texts hold characters beyond Latin-1, where the substring search is slow). One
    alternation of them, longest first, is searched instead: the regex engine skips ahead to
    the characters they start with, and where one is found, every shorter one found at the
    same place is a prefix of it.
    """

    def __init__(self, strings: Iterable[str]) -> None:
        """Prepare the search for ``strings``."""
        wanted = sorted({s for s in strings if s}, key=len, reverse=True)
        self._always = frozenset({""})  # the empty string is in every text
        self._regex = (re.compile("|".join(map(re.escape, wanted))) if wanted else None)
        # Each string with the (shorter) strings that are its prefixes, itself included.
        self._prefixes = {s: frozenset({*(p for p in wanted if s.startswith(p)), ""})
                          for s in wanted}

    @staticmethod
    @functools.lru_cache(maxsize=16)
    def of(substitutions: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]) -> _Needles:
        """The search for the required strings of ``substitutions`` (made once per rules)."""
        return _Needles(s for _, _, requires in substitutions for s in requires)

    def present(self, text: str) -> frozenset[str]:
        """The strings (of those given) that occur in ``text``, as ``s in text`` says."""
        if self._regex is None:
            return self._always
        found: set[str] = set()
        search = self._regex.search
        match = search(text)
        while match is not None:
            found.update(self._prefixes[match.group()])
            # From the next character: a string may start inside the one just found.
            match = search(text, match.start() + 1)
        return frozenset(found) if found else self._always


def clean_text(
    raw: str, *, rules: CleaningRules | None = None, title_hint: str | None = None
) -> CleanedArticle:
    """Clean one plain-text or markdown article.

    Args:
        raw: The article text (markdown links are reduced to their text).
        rules: Compiled rules; the shipped rules when None.
        title_hint: The title known from metadata. The first line is then taken as the title
            only when it repeats the hint; a repeat of the hint is removed from the body either way.

    Returns:
        The cleaned article: title (headline, hint, or derived from the first sentence), body
        paragraphs separated by blank lines, and subtitle, authors and dateline when found.
        Empty input gives an empty title and body.
    """
    rules = rules or default_rules()
    hint = normalize_text(title_hint).replace("\n", " ") if title_hint else None
    text = normalize_text(raw)
    if not text:
        return CleanedArticle(title=hint or "", body="")
    if rules.unescape_html_entities and "&" in text:
        text = normalize_text(html.unescape(text))

    if rules.link_only_drop and "](" in text:
        text = "\n".join(
            "" if _is_link_only(line, rules.link_only_max_words) else line
            for line in text.split("\n")
        )
    needles = _Needles.of(rules.substitutions)
    present = needles.present(text)
    for pattern, replacement, requires in rules.substitutions:
        if requires and present.isdisjoint(requires):
            continue
        rewritten = pattern.sub(replacement, text)
        if rewritten != text:
            text = rewritten
            present = needles.present(text)
    lines = [line.strip() for line in text.split("\n")]

    total = len(lines)
    truncate_from = int(total * rules.truncate_min_position)
    # Hoisted out of the loop over every line: the two matchers' tests.
    truncate = rules.truncate_after.search if rules.truncate_after else None
    drop = rules.drop_lines.search
    for i, line in enumerate(lines):
        if not line:
            continue
        bare = _bare(line)
        if truncate is not None and i >= truncate_from and truncate(bare):
            lines[i:] = [""] * (total - i)
            break
        if drop(bare):
            lines[i] = ""

    _drop_related(lines, rules)
    # Header analysis works on paragraphs, so that a hard-wrapped first paragraph is not
    # mistaken for a subtitle.
    units = _paragraphs(lines, rules)
    header = _analyse_header(units, rules, hint)
    title = hint or header.title
    title_key = _key(title) if title else ""
    paragraphs = [p for p in units if p and not _is_repeat(p, title_key)]
    paragraphs = _drop_teasers(paragraphs, rules, [title_key])
    if rules.drop_consecutive_duplicates:
        paragraphs = [
            p for i, p in enumerate(paragraphs) if i == 0 or not _same(p, paragraphs[i - 1])
        ]
    body = normalize_text("\n\n".join(paragraphs))
    derived = not title
    title = title or _derive_title(paragraphs, rules)
    return CleanedArticle(
        title=title,
        body=body,
        subtitle=header.subtitle,
        authors=tuple(header.authors),
        dateline=header.dateline,
        title_derived=derived,
    )


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def _authors_from_metadata(metadata: Mapping[str, Any], rules: CleaningRules) -> tuple[str, ...]:
    value = metadata.get("authors", metadata.get("author"))
    if value is None:
        return ()
    items: list[Any] = list(value) if isinstance(value, (list, tuple)) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("name", "")
        text = normalize_text(str(item)).replace("\n", " ")
        parts = [text] if isinstance(value, (list, tuple)) else rules.author_separators.split(text)
        names.extend(p.strip() for p in parts if p and p.strip() and p.strip() not in names)
    return tuple(names)


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    text = normalize_text(str(value)).replace("\n", " ")
    return text or None


def clean_document(doc: SourceDocument, *, rules: CleaningRules | None = None) -> CleanedArticle:
    """Clean one source document, dispatching on its format.

    ``text``/``markdown``/``json`` bodies go through :func:`clean_text` (with the metadata title
    as hint); ``html`` goes through :func:`searchlib.ingest.htmltext.parse_html` first and the same
    text
    rules are then applied to the extracted body. Metadata from the source (title,
    author/authors, subtitle) wins over anything extracted; HTML meta (published, url, site,
    description) lands in ``CleanedArticle.metadata``.
    """
    rules = rules or default_rules()
    meta = doc.metadata
    meta_title = _text_or_none(meta.get("title"))
    extracted: dict[str, Any] = {}
    extracted_authors: tuple[str, ...] = ()
    if doc.format == "html":
        from searchlib.ingest.htmltext import parse_html

        page = parse_html(doc.text, url=_text_or_none(meta.get("url")))
        page_title = _text_or_none(page.title)
        cleaned = clean_text(page.body, rules=rules, title_hint=meta_title or page_title)
        for name in ("published", "url", "site", "description"):
            value = getattr(page, name, None)
            if value not in (None, ""):
                extracted[name] = value
        if page_title:
            extracted["title"] = page_title
        extracted_authors = tuple(a for a in page.authors if a)
    else:
        cleaned = clean_text(doc.text, rules=rules, title_hint=meta_title)

    authors = (
        _authors_from_metadata(meta, rules) or cleaned.authors or extracted_authors
    )
    return CleanedArticle(
        title=meta_title or cleaned.title,
        body=cleaned.body,
        subtitle=_text_or_none(meta.get("subtitle")) or cleaned.subtitle,
        authors=authors,
        dateline=cleaned.dateline,
        metadata=extracted,
        title_derived=cleaned.title_derived and not meta_title,
    )

