"""The tagging and rewriting passes that define searchlib's query syntax.

searchlib's query language is the one Whoosh's ``MultifieldParser`` reads with the plugins
searchlib adds (fuzzy terms, ``>``/``<`` ranges, ``+``/``-`` that start a word, field aliases).
That language has no grammar: it is defined by regular-expression *taggers* that cut the text
into nodes, then by *filters* that rewrite the flat list of nodes in a fixed order (brackets,
fuzziness, wildcards, aliases, ``>``/``<``, field names, multi-field expansion, boosts,
``+``/``-``, then the operators). Malformed text is never an error there: an unmatched bracket
is dropped, an operator without operands becomes nothing or a word, an unknown ``field:`` a
part of the word. To give every input exactly the meaning it has always had, this module
performs those same passes, in the same order, with the same regular expressions, in pure
Python; :mod:`searchlib.query.parser` turns the result into the AST. The equivalence tests
(``tests/test_query_ast.py``) compare it with Whoosh's own parser on hand-written and
generated queries.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# --- nodes --------------------------------------------------------------------------------


class SyntaxNode:
    """A node of the tagged query text."""

    has_fieldname = False
    has_text = False
    has_boost = False
    startchar: int | None = None
    endchar: int | None = None
    fieldname: str | None = None
    text: str = ""
    boost: float = 1.0

    def is_ws(self) -> bool:
        """Whether this is ignorable whitespace."""
        return False

    def is_text(self) -> bool:
        """Whether this searches for text (a word, wildcard, phrase...)."""
        return False

    def set_fieldname(self, name: str, override: bool = False) -> None:
        """Give the node a field unless it has one (``override``: always)."""
        if self.has_fieldname and (self.fieldname is None or override):
            self.fieldname = name

    def set_boost(self, boost: float) -> None:
        """Set the node's boost (nodes without one ignore it)."""
        if self.has_boost:
            self.boost = boost

    def set_range(self, startchar: int | None, endchar: int | None) -> SyntaxNode:
        """Record the characters of the query text the node came from."""
        self.startchar = startchar
        self.endchar = endchar
        return self

    def __repr__(self) -> str:
        fieldname = f"{self.fieldname}:" if self.has_fieldname and self.fieldname else ""
        return f"<{fieldname}{type(self).__name__} {self.text!r}>"


class Whitespace(SyntaxNode):
    """Whitespace between nodes (removed once the passes that need it have run)."""

    def is_ws(self) -> bool:
        return True


class FieldnameNode(SyntaxNode):
    """``name:`` before the node it applies to."""

    has_fieldname = True

    def __init__(self, fieldname: str, original: str) -> None:
        self.fieldname = fieldname
        self.original = original


class GroupNode(SyntaxNode):
    """A list of nodes."""

    has_boost = True
    merging = True

    def __init__(self, nodes: list[SyntaxNode] | None = None, boost: float = 1.0) -> None:
        self.nodes: list[SyntaxNode] = nodes or []
        self.boost = boost

    @property
    def startchar(self) -> int | None:  # type: ignore[override]
        """Where the group's first node starts."""
        return self.nodes[0].startchar if self.nodes else None

    @property
    def endchar(self) -> int | None:  # type: ignore[override]
        """Where the group's last node ends."""
        return self.nodes[-1].endchar if self.nodes else None

    def empty_copy(self) -> GroupNode:
        """A group of the same kind and boost, without nodes."""
        group = type(self)()
        if self.has_boost:
            group.boost = self.boost
        return group

    def set_fieldname(self, name: str, override: bool = False) -> None:
        SyntaxNode.set_fieldname(self, name, override)
        for node in self.nodes:
            node.set_fieldname(name, override)

    def set_range(self, startchar: int | None, endchar: int | None) -> SyntaxNode:
        for node in self.nodes:
            node.set_range(startchar, endchar)
        return self

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Any:
        return iter(self.nodes)

    def __getitem__(self, i: int) -> SyntaxNode:
        return self.nodes[i]

    def append(self, node: SyntaxNode) -> None:
        """Add ``node`` at the end."""
        self.nodes.append(node)

    def __repr__(self) -> str:
        boost = f" ^{self.boost}" if self.boost != 1 else ""
        return f"<{type(self).__name__} {', '.join(map(repr, self.nodes))}{boost}>"


class AndGroup(GroupNode):
    """Every node must match."""


class OrGroup(GroupNode):
    """Any node may match (also the parser's default group)."""


class BinaryGroup(GroupNode):
    """A group of exactly two nodes."""

    merging = False
    has_boost = False


class AndNotGroup(BinaryGroup):
    """``a ANDNOT b``."""


class AndMaybeGroup(BinaryGroup):
    """``a ANDMAYBE b``."""


class RequireGroup(BinaryGroup):
    """``a REQUIRE b``."""


class NotGroup(GroupNode):
    """``NOT a`` (wraps one node)."""

    merging = False


class RangeNode(SyntaxNode):
    """``[a TO b]`` and the ranges ``>``/``<`` make."""

    has_fieldname = True
    has_boost = True

    def __init__(self, start: str | None, end: str | None, startexcl: bool,
                 endexcl: bool) -> None:
        self.start, self.end = start, end
        self.startexcl, self.endexcl = startexcl, endexcl
        self.boost = 1.0
        self.fieldname = None


class TextNode(SyntaxNode):
    """A node searching for text."""

    has_fieldname = True
    has_text = True
    has_boost = True

    def __init__(self, text: str) -> None:
        self.fieldname = None
        self.text = text
        self.boost = 1.0

    def is_text(self) -> bool:
        return True


class WordNode(TextNode):
    """A word."""


class PrefixNode(TextNode):
    """``word*``."""


class WildcardNode(TextNode):
    """A word with ``*`` or ``?``."""


class FuzzyTermNode(TextNode):
    """``word~N/P``."""

    def __init__(self, word: SyntaxNode, maxdist: int, prefixlength: int) -> None:
        self.fieldname = word.fieldname
        self.text = word.text
        self.boost = word.boost
        self.startchar, self.endchar = word.startchar, word.endchar
        self.maxdist, self.prefixlength = maxdist, prefixlength


class PhraseNode(TextNode):
    """``"words"~N``."""

    def __init__(self, text: str, textstartchar: int, slop: int = 1) -> None:
        super().__init__(text)
        self.textstartchar = textstartchar
        self.slop = slop


class Marker(SyntaxNode):
    """A node that only marks a place (a bracket, ``+``, ``-``)."""

    def __init__(self, original: str = "") -> None:
        self.original = original


class OpenBracket(Marker):
    """``(``."""


class CloseBracket(Marker):
    """``)``."""


class Plus(Marker):
    """``+`` starting a word."""


class Minus(Marker):
    """``-`` starting a word."""


class EveryNode(SyntaxNode):
    """``*:*``."""


class BoostNode(Marker):
    """``^2``."""

    def __init__(self, original: str, boost: float) -> None:
        super().__init__(original)
        self.boost = boost


class FuzzinessNode(Marker):
    """``~N/P`` after a word."""

    def __init__(self, maxdist: int, prefixlength: int, original: str) -> None:
        super().__init__(original)
        self.maxdist, self.prefixlength = maxdist, prefixlength


class GtLtNode(SyntaxNode):
    """``>``, ``<=``... after ``field:``."""

    def __init__(self, rel: str) -> None:
        self.rel = rel


class Operator(SyntaxNode):
    """``AND``, ``OR``, ``NOT``, ``ANDNOT``, ``ANDMAYBE``, ``REQUIRE``."""

    def __init__(self, text: str, grouptype: type[GroupNode], prefix: bool) -> None:
        self.text = text
        self.grouptype = grouptype
        self.prefix = prefix

    def replace_self(self, group: GroupNode, position: int) -> int:
        """Replace the operator and its operands in ``group`` with a group of its kind."""
        nodes = group.nodes
        if self.prefix:
            length = len(nodes)
            del nodes[position]
            if position < length - 1:
                nodes[position] = self.grouptype([nodes[position]])
            return position
        gtype = self.grouptype
        if 0 < position < len(nodes) - 1:
            left, right = nodes[position - 1], nodes[position + 1]
            if gtype.merging and isinstance(left, gtype):
                left.append(right)
                del nodes[position:position + 2]
            else:
                nodes[position - 1:position + 2] = [gtype([left, right])]
        else:
            del nodes[position]
        return position


def to_word(node: Any) -> WordNode:
    """A marker that means nothing where it stands, read as a word."""
    word = WordNode(node.original)
    word.startchar, word.endchar = node.startchar, node.endchar
    return word


# --- taggers ------------------------------------------------------------------------------

_QMARKS = "?\u055E\u061F\u1367"
_FUZZY = re.compile(r"""
    (?<=\S)                          # Only match right after non-space
    ~                                # Initial tilde
    (?P<maxdist>[0-9])?              # Optional maxdist
    (/                               # Optional prefix slash
        (?P<prefix>[1-9][0-9]*)      # prefix
    )?                               # (end prefix group)
    """, re.VERBOSE)
_RANGE = re.compile(r"""
    (?P<open>\{|\[)               # Open paren
    (?P<start>
        ('[^']*?'\s+)             # single-quoted
        |                         # or
        ([^\]}]+?(?=[Tt][Oo]))    # everything until "to"
    )?
    [Tt][Oo]                      # "to"
    (?P<end>
        (\s+'[^']*?')             # single-quoted
        |                         # or
        ([^\]}]+?)                # everything until "]" or "}"
    )?
    (?P<close>}|])                # Close paren
    """, re.VERBOSE)
_PLUS = r"(?:^|(?<=[\s(]))\+(?=\S)"
_MINUS = r"(?:^|(?<=[\s(]))-(?=\S)"

Tagger = Callable[[re.Match[str]], SyntaxNode | None]


def _phrase(m: re.Match[str]) -> SyntaxNode:
    slop = m.group("slop")
    return PhraseNode(m.group("text"), m.start("text"), int(slop) if slop else 1)


def _range(m: re.Match[str]) -> SyntaxNode:
    start, end = m.group("start"), m.group("end")
    if start:
        start = start.rstrip()
        if start.startswith("'") and start.endswith("'"):
            start = start[1:-1]
    if end:
        end = end.lstrip()
        if end.startswith("'") and end.endswith("'"):
            end = end[1:-1]
    return RangeNode(start, end, m.group("open") == "{", m.group("close") == "}")


def _boost(m: re.Match[str]) -> SyntaxNode:
    try:
        return BoostNode(m.group(0), float(m.group("boost")))
    except ValueError:  # "^" alone: a word
        return WordNode(m.group(0))


def _fuzziness(m: re.Match[str]) -> SyntaxNode:
    maxdist, prefix = m.group("maxdist"), m.group("prefix")
    return FuzzinessNode(int(maxdist) if maxdist else 1, int(prefix) if prefix else 0,
                         m.group(0))


def _operator(grouptype: type[GroupNode], prefix: bool = False) -> Tagger:
    return lambda m: Operator(m.group(0), grouptype, prefix)


# In the order Whoosh tries them (its plugins' taggers, stably sorted by priority).
_TAGGERS: list[tuple[re.Pattern[str], Tagger]] = [
    (re.compile(r"(?<=\s)ANDNOT(?=\s)"), _operator(AndNotGroup)),
    (re.compile(r"(?<=\s)ANDMAYBE(?=\s)"), _operator(AndMaybeGroup)),
    (re.compile(r"[*]:[*]"), lambda m: EveryNode()),
    (re.compile(r"(^|(?<=\W))'(?P<text>.*?)'(?=\s|\]|[)}]|$)"),
     lambda m: WordNode(m.group("text"))),
    (re.compile(r"(?P<text>\w+|[*]):"), lambda m: FieldnameNode(m.group("text"), m.group(0))),
    (re.compile(f"(?P<text>[*{_QMARKS}])"), lambda m: WildcardNode(m.group("text"))),
    (re.compile(r'"(?P<text>.*?)"(~(?P<slop>[1-9][0-9]*))?'), _phrase),
    (re.compile(r"[(]"), lambda m: OpenBracket(m.group(0))),
    (re.compile(r"[)]"), lambda m: CloseBracket(m.group(0))),
    (re.compile(r"(^|(?<=(\s|[()])))NOT(?=\s)"), _operator(NotGroup, prefix=True)),
    (re.compile(r"(?<=\s)AND(?=\s)"), _operator(AndGroup)),
    (re.compile(r"(?<=\s)OR(?=\s)"), _operator(OrGroup)),
    (re.compile(r"(^|(?<=\s))REQUIRE(?=\s)"), _operator(RequireGroup)),
    (re.compile(r"\^(?P<boost>[0-9]*(\.[0-9]+)?)($|(?=[ \t\r\n)]))"), _boost),
    (_FUZZY, _fuzziness),
    (re.compile(r"(?P<rel>(<=|>=|<|>|=<|=>))"), lambda m: GtLtNode(m.group("rel"))),
    (re.compile(_PLUS), lambda m: Plus(m.group(0))),
    (re.compile(_MINUS), lambda m: Minus(m.group(0))),
    (_RANGE, _range),
    (re.compile(r"\s+"), lambda m: Whitespace()),
]

# The operators in the order the operator pass applies them.
_OPERATOR_ORDER = (NotGroup, AndGroup, OrGroup, AndNotGroup, AndMaybeGroup, RequireGroup)


def tag(text: str) -> GroupNode:
    """Cut ``text`` into nodes (the text between tagged parts makes words)."""
    stack: list[SyntaxNode] = []
    prev = pos = 0

    def inter(start: int, end: int) -> SyntaxNode:
        return WordNode(text[start:end]).set_range(start, end)

    while pos < len(text):
        node = None
        for expr, create in _TAGGERS:
            m = expr.match(text, pos)
            if m is None:
                continue
            node = create(m)
            if node is None:
                continue
            node.set_range(m.start(), m.end())
            if prev < pos:
                stack.append(inter(prev, pos))
            stack.append(node)
            prev = pos = m.end()
            break
        if node is None:
            pos += 1
    if prev < len(text):
        stack.append(inter(prev, len(text)))
    return OrGroup(stack)


# --- filters ------------------------------------------------------------------------------


def do_groups(group: GroupNode) -> GroupNode:
    """Nest the nodes between brackets (unmatched brackets are dropped)."""
    stack: list[GroupNode] = [OrGroup()]
    for node in group:
        if isinstance(node, OpenBracket):
            stack.append(OrGroup())
        elif isinstance(node, CloseBracket):
            if len(stack) > 1:
                last = stack.pop()
                stack[-1].append(last)
        else:
            stack[-1].append(node)
    top = stack[0]
    for extra in stack[1:]:
        top.nodes.extend(extra.nodes)
    if len(top) == 1 and isinstance(top[0], GroupNode):
        boost = top.boost
        inner = top[0]
        inner.boost = boost
        top = inner
    return top


def clean_boost(group: GroupNode) -> GroupNode:
    """A boost with nothing boostable before it is a word."""
    for i, node in enumerate(group.nodes):
        if isinstance(node, BoostNode) and (not i or not group[i - 1].has_boost):
            group.nodes[i] = to_word(node)
    return group


def do_fuzzyterms(group: GroupNode) -> GroupNode:
    """Join a word and the ``~N/P`` after it into a fuzzy term."""
    newgroup = group.empty_copy()
    i = 0
    while i < len(group):
        node = group[i]
        if i < len(group) - 1 and isinstance(node, WordNode):
            nextnode = group[i + 1]
            if isinstance(nextnode, FuzzinessNode):
                node = FuzzyTermNode(node, nextnode.maxdist, nextnode.prefixlength)
                i += 1
        if isinstance(node, FuzzinessNode):
            node = to_word(node)
        if isinstance(node, GroupNode):
            node = do_fuzzyterms(node)
        newgroup.append(node)
        i += 1
    return newgroup


def do_wildcards(group: GroupNode) -> GroupNode:
    """Join ``*``/``?`` with the words beside them; ``word*`` alone is a prefix."""
    i = 0
    nodes = group.nodes
    while i < len(nodes):
        node = nodes[i]
        if isinstance(node, WildcardNode):
            if i < len(nodes) - 1 and nodes[i + 1].is_text():
                nextnode = nodes.pop(i + 1)
                node.text += nextnode.text
            if i > 0 and nodes[i - 1].is_text():
                prevnode = nodes.pop(i - 1)
                node.text = prevnode.text + node.text
            else:
                i += 1
        else:
            if isinstance(node, GroupNode):
                do_wildcards(node)
            i += 1
    for i, node in enumerate(nodes):
        if isinstance(node, WildcardNode):
            text = node.text
            if len(text) > 1 and not any(qm in text for qm in _QMARKS) \
                    and text.find("*") == len(text) - 1:
                prefix = PrefixNode(text[:-1])
                prefix.startchar, prefix.endchar = node.startchar, node.endchar
                nodes[i] = prefix
    return group


def do_aliases(group: GroupNode, reverse: Mapping[str, str]) -> GroupNode:
    """Rename aliased field names (``place:`` is ``location:``)."""
    for i, node in enumerate(group.nodes):
        if isinstance(node, GroupNode):
            group.nodes[i] = do_aliases(node, reverse)
        elif node.has_fieldname and node.fieldname is not None and node.fieldname in reverse:
            node.set_fieldname(reverse[node.fieldname], override=True)
    return group


def _make_range(node: SyntaxNode, rel: str) -> RangeNode:
    text = node.text
    if rel == "<":
        made = RangeNode(None, text, False, True)
    elif rel == ">":
        made = RangeNode(text, None, True, False)
    elif rel in ("<=", "=<"):
        made = RangeNode(None, text, False, False)
    else:  # ">=", "=>"
        made = RangeNode(text, None, False, False)
    made.set_range(node.startchar, node.endchar)
    return made


def do_gtlt(group: GroupNode) -> GroupNode:
    """``field:>x`` is a range; a ``>`` anywhere else is dropped."""
    newgroup = group.empty_copy()
    i = 0
    lasti = len(group) - 1
    while i < len(group):
        node = group[i]
        if isinstance(node, GtLtNode):
            if i < lasti:
                # An IndexError here (a ">" opening a group) is Whoosh's too: the parser
                # reports "cannot parse query: list index out of range".
                prevnode = newgroup.nodes[-1]
                nextnode = group[i + 1]
                if isinstance(prevnode, FieldnameNode) and nextnode.has_text:
                    newgroup.append(_make_range(nextnode, node.rel))
                    i += 1
        elif isinstance(node, GroupNode):
            newgroup.append(do_gtlt(node))
        else:
            newgroup.append(node)
        i += 1
    return newgroup


def do_fieldnames(group: GroupNode, schema: Sequence[str] | frozenset[str]) -> GroupNode:
    """Apply each ``name:`` to the node after it; an unknown name becomes part of the text."""
    newgroup = group.empty_copy()
    prev_field: FieldnameNode | None = None
    for node in group:
        if isinstance(node, FieldnameNode) and node.fieldname not in schema:
            prev_field = node
            continue
        if prev_field is not None:
            if node.has_text:
                node.text = prev_field.original + node.text
            else:
                newgroup.append(to_word(prev_field))
            prev_field = None
        newgroup.append(node)
    if prev_field is not None:
        newgroup.append(to_word(prev_field))
    group = newgroup

    newgroup = group.empty_copy()
    i = len(group)
    while i > 0:
        i -= 1
        node = group[i]
        if isinstance(node, FieldnameNode):
            node = to_word(node)
        elif isinstance(node, GroupNode):
            node = do_fieldnames(node, schema)
        if i > 0 and not node.is_ws() and isinstance(group[i - 1], FieldnameNode):
            fieldname = group[i - 1].fieldname
            assert fieldname is not None  # a FieldnameNode always names its field
            node.set_fieldname(fieldname, override=False)
            i -= 1
        newgroup.append(node)
    newgroup.nodes.reverse()
    return newgroup


def do_multifield(group: GroupNode, fields: Sequence[str],
                  boosts: Mapping[str, float]) -> GroupNode:
    """An unfielded node searches every default field: an OR of one copy per field."""
    for i, node in enumerate(group.nodes):
        if isinstance(node, GroupNode):
            group.nodes[i] = do_multifield(node, fields, boosts)
        elif node.has_fieldname and node.fieldname is None:
            copies: list[SyntaxNode] = []
            for name in fields:
                made = copy.copy(node)
                made.set_fieldname(name)
                made.set_boost(boosts.get(name, 1.0))
                copies.append(made)
            group.nodes[i] = OrGroup(copies)
    return group


def remove_whitespace(group: GroupNode) -> GroupNode:
    """Drop whitespace nodes."""
    newgroup = group.empty_copy()
    for node in group:
        if isinstance(node, GroupNode):
            newgroup.append(remove_whitespace(node))
        elif not node.is_ws():
            newgroup.append(node)
    return newgroup


def do_boost(group: GroupNode) -> GroupNode:
    """Apply each ``^N`` to the node before it."""
    newgroup = group.empty_copy()
    for node in group:
        if isinstance(node, GroupNode):
            node = do_boost(node)
        elif isinstance(node, BoostNode):
            if newgroup and newgroup[-1].has_boost:
                newgroup[-1].set_boost(node.boost)
                continue
            node = to_word(node)
        newgroup.append(node)
    return newgroup


def do_plusminus(group: GroupNode) -> GroupNode:
    """Sort the top level into required (``+``), optional and banned (``-``) parts."""
    required: GroupNode = AndGroup()
    optional: GroupNode = AndGroup() if isinstance(group, AndGroup) else OrGroup()
    banned: GroupNode = OrGroup()
    target = optional
    for node in group:
        if isinstance(node, Plus):
            target = required
        elif isinstance(node, Minus):
            target = banned
        else:
            target.append(node)
            target = optional
    result: GroupNode = optional
    if required:
        result = AndMaybeGroup([required, result])
    if banned:
        result = AndNotGroup([result, banned])
    return result


def do_operators(group: GroupNode) -> GroupNode:
    """Apply the operators, one kind at a time, left to right."""
    for gtype in _OPERATOR_ORDER:
        i = 0
        while i < len(group.nodes):
            node = group.nodes[i]
            if isinstance(node, Operator) and node.grouptype is gtype:
                i = node.replace_self(group, i)
            else:
                i += 1
    for i, node in enumerate(group.nodes):
        if isinstance(node, GroupNode):
            group.nodes[i] = do_operators(node)
    return group


def process(text: str, *, schema: frozenset[str], fields: Sequence[str],
            boosts: Mapping[str, float], aliases: Mapping[str, Sequence[str]]) -> GroupNode:
    """The syntax tree of ``text``: the tagging, then every filter in Whoosh's order."""
    reverse = {alias: name for name, names in aliases.items() for alias in names}
    group = tag(text)
    group = do_groups(group)
    group = clean_boost(group)
    group = do_fuzzyterms(group)
    group = do_wildcards(group)
    group = do_aliases(group, reverse)
    group = do_gtlt(group)
    group = do_fieldnames(group, schema)
    group = do_multifield(group, fields, boosts)
    group = remove_whitespace(group)
    group = do_boost(group)
    group = do_plusminus(group)
    return do_operators(group)
