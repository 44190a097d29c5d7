"""Did-you-mean: spelling corrections of a query's words from the index's own vocabulary
(stems turned back into the surface words the index saw).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ._importing import import_whoosh

import_whoosh()  # before any Whoosh module loads: keeps urllib.request and asyncio out

from whoosh import spelling  # noqa: E402

from ...errors import QueryError  # noqa: E402
from . import ranking  # noqa: E402
from .schema import SEARCH_FIELDS  # noqa: E402

#: Did-you-mean is offered for queries of at most this many words...
_SUGGESTION_WORDS = 12
#: ...from at most this many index terms per word (the closest, then most frequent).
_SUGGESTION_CANDIDATES = 50


class StemCorrector(spelling.Corrector):  # type: ignore[misc]
    """Spelling suggestions from the stemmed lexicon of a field, returned as real words.

    The index keeps no separate unstemmed word list (it would double indexing work), so a
    misspelt term is matched against the stems within the edit distance, the most frequent
    win, and each stem is turned back into the word form a document actually uses.
    """

    def __init__(self, reader: Any, fieldname: str, terms: Any) -> None:
        self.reader = reader
        self.fieldname = fieldname
        self.analyzer = reader.schema[fieldname].analyzer
        # The field's sorted terms (lexicon.FieldTerms): candidates in milliseconds, where
        # Whoosh's terms_within walks an automaton over the term files for seconds.
        self.terms = terms

    def _suggestions(self, text: str, maxdist: int, prefix: int) -> Iterator[tuple[float, str]]:
        ranking.check_budget()
        for stem in self.terms.fuzzy(text, maxdist, prefix, _SUGGESTION_CANDIDATES).terms:
            if stem == text:
                continue
            word = self._surface(stem)
            if word:
                distance = _edit_distance(text, stem)
                frequency = self.reader.doc_frequency(self.fieldname, stem)
                yield (-distance + frequency / (frequency + 1.0), word)

    def _surface(self, stem: str) -> str | None:
        """The word form of ``stem`` as it appears in the first document that has it."""
        postings = self.reader.postings(self.fieldname, stem)
        if not postings.is_active():
            return None
        stored = self.reader.stored_fields(postings.id())
        source = stored.get(self.fieldname) or ""
        forms: dict[str, int] = {}
        for token in self.analyzer(source, chars=True, mode="index"):
            if token.text == stem:
                form = str(source[token.startchar:token.endchar]).lower()
                forms[form] = forms.get(form, 0) + 1
        # The commonest form, and of equally common ones the shortest ("attack", not
        # "attacked"), is the likeliest word the user meant.
        return min(forms, key=lambda f: (-forms[f], len(f), f)) if forms else None


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def keep_case(original: str, corrected: str) -> str:
    """Corrections come from the lowercased vocabulary: restore the user's capitals."""
    before, after = original.split(), corrected.split()
    if len(before) != len(after):
        return corrected
    out = []
    for old, new in zip(before, after, strict=True):
        if old != new and old[:1].isupper() and new[:1].islower():
            new = new[:1].upper() + new[1:]
        out.append(new)
    return " ".join(out)


def suggest(searcher: Any, lexicon: Callable[[], Any], parse: Callable[[str], Any], text: str,
            q: Any, total: int) -> str | None:
    """A better-spelled query than ``text`` (parsed as ``q``, finding ``total`` documents)
    built from the index vocabulary of ``lexicon()``, if it finds at least as much; ``parse``
    turns a query text into the Whoosh query that is counted."""
    if len(text.split()) > _SUGGESTION_WORDS:
        return None  # nobody retypes a pasted page from a spelling suggestion
    reader = searcher.reader()
    terms = lexicon()
    correctors = {name: StemCorrector(reader, name, terms.field(name))
                  for name in SEARCH_FIELDS}
    try:
        corrected = searcher.correct_query(q, text, correctors=correctors, maxdist=2,
                                           prefix=1)
    except ranking.OverBudget:
        raise
    except Exception:  # suggestions are a nicety; never fail a search over one
        return None
    if corrected.string == text or not corrected.query:
        return None
    better = keep_case(text, corrected.string)
    try:
        found = len(set(searcher.docs_for_query(parse(better))))
    except QueryError:
        return None
    # Offered when it finds at least as much: a word that matched nothing now counts.
    return better if found >= max(total, 1) else None
