"""What a query text may be before it reaches the engine: read-only, local, and of a shape the
engine's parser survives.

pyoxigraph's parser and planner recurse over the query: 2,500 nested braces, 10,000 terms of
``1+1+…`` or a few thousand flat ``OPTIONAL`` blocks overflow its stack and kill the process
(a segmentation fault, no exception). So every text is lexed once, in linear time, before it is
parsed: strings, IRIs and comments are skipped as the grammar says, and nesting depth, operators
and group patterns are counted against limits far below what the parser survives (measured on
pyoxigraph 0.5: a query thread with a 256 MiB stack parses 64,000 nested braces, 16,000
nested function calls and 16,000 chained operators; the limits are 128, 128 and 4,000).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .errors import QueryError, QueryRefused

#: Deepest nesting of ``{ ( [`` together.
MAX_DEPTH = 128
#: Most operators (``&& || ! = != < > <= >= + - * / | ^``) in one query.
MAX_OPERATORS = 4_000
#: Most group patterns and sub-queries (``OPTIONAL``, ``UNION``, ``MINUS``, …) in one query.
MAX_GROUPS = 1_000

_TOKEN = re.compile(
    r"""
     (?P<space>\s+)
    |(?P<comment>\#[^\r\n]*)
    |(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
       |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
    |(?P<unterminated>'''|\"\"\"|['"])
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<var>[?$]\w+)
    |(?P<name>[A-Za-z_][\w.-]*(?::(?:[\w.:%-]|\\.)*)?|:(?:[\w.:%-]|\\.)*)
    |(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    |(?P<open>[{(\[])
    |(?P<close>[})\]])
    |(?P<operator>&&|\|\||!=|<=|>=|\^\^|[=<>!+\-*/|^])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORD = re.compile(r"[A-Za-z]+")
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
#: SERVICE followed by what may follow it in the grammar (SILENT, an IRI, a variable, a
#: prefixed name), comments and white space allowed between: the backstop when this lexer and
#: the engine's parser read a text differently. It may refuse a literal such as "service <x";
#: it never lets a SERVICE clause through.
_SERVICE_ANYWHERE = re.compile(
    r"(?i)(?<![\w:?$])service(?:\s|#[^\r\n]*)*(?:silent\b|<|[?$]|[A-Za-z_][\w.-]*:|:)"
)
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
)
GROUP_KEYWORDS = frozenset(
    {"OPTIONAL", "UNION", "MINUS", "FILTER", "GRAPH", "SERVICE", "EXISTS", "SELECT", "BIND"}
)


#: Bare words SPARQL reads case-sensitively (pyoxigraph refuses ``TRUE`` and ``A``): the
#: normal form keeps them as written; every other keyword is upper-cased.
CASE_SENSITIVE = frozenset({"a", "true", "false"})


@dataclass(frozen=True)
class Shape:
    """What the lexer saw: the bare keywords, upper-cased, and the counts it checked.

    ``normal`` is the text in a normal form, the same for texts the parser reads as the same
    query: comments gone, each run of white space one space (none where the text had none),
    keywords upper-cased, prefixed names written as full IRIs and the prologue's ``PREFIX``
    declarations dropped (unless a ``BASE`` is declared). It is a key, never run.
    """

    keywords: tuple[str, ...]
    depth: int
    operators: int
    groups: int
    normal: str = field(default="", repr=False, compare=False)

    @property
    def form(self) -> str | None:
        """The query form (``SELECT``, ``CONSTRUCT``, ``ASK``, ``DESCRIBE``), if it starts one."""
        return next((w for w in self.keywords if w not in ("PREFIX", "BASE")), None)


def unescape_codepoints(text: str) -> str:
    """Apply SPARQL's codepoint escapes (``\\u`` with four hex digits, ``\\U`` with eight), which
    the grammar sees already replaced (SPARQL 1.1 Query §19.2): the guard reads what the parser
    reads.

    >>> unescape_codepoints("SELECT \\\\u0028")
    'SELECT ('
    """
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _error(text: str, offset: int, message: str) -> QueryError:
    """A QueryError at ``offset`` of ``text``, with its line and column (both from 1)."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return QueryError(f"line {line}, column {column}: {message}", line=line, column=column)


def _too_complex(text: str, offset: int, what: str) -> QueryError:
    return _error(text, offset, f"the query {what}; simplify it or split it into several")


def shape(text: str) -> Shape:
    """Lex ``text`` once, in time linear in its length, and check its limits.

    Raises:
        QueryError: an unterminated string, or nesting, operators or group patterns beyond the
            limits (with the line and column where the limit was passed).

    >>> shape('PREFIX s: <http://x/service> SELECT ?service { ?s s:p "SERVICE" } # SERVICE')
    Shape(keywords=('PREFIX', 'SELECT'), depth=1, operators=0, groups=1)
    """
    text = unescape_codepoints(text)
    keywords: list[str] = []
    tokens: list[tuple[str | None, str, bool]] = []  # kind, text, white space before it
    gap = False
    depth = deepest = operators = groups = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "space" or kind == "comment":
            gap = True
            continue
        tokens.append((kind, match.group(), gap))
        gap = False
        if kind == "name":
            word = match.group()
            if _KEYWORD.fullmatch(word):
                word = word.upper()
                keywords.append(word)
                if word in GROUP_KEYWORDS:
                    groups += 1
                    if groups > MAX_GROUPS:
                        raise _too_complex(
                            text, match.start(), f"has more than {MAX_GROUPS} group patterns"
                        )
        elif kind == "open":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_complex(
                    text, match.start(), f"nests brackets more than {MAX_DEPTH} deep"
                )
            deepest = max(deepest, depth)
        elif kind == "close":
            depth -= 1
        elif kind == "operator":
            operators += 1
            if operators > MAX_OPERATORS:
                raise _too_complex(text, match.start(), f"has more than {MAX_OPERATORS} operators")
        elif kind == "unterminated":
            raise _error(text, match.start(), "a string is opened here and never closed")
    return Shape(tuple(keywords), deepest, operators, groups, _normal(tokens, "BASE" in keywords))


#: A prefix as SPARQL spells it in a declaration (PNAME_NS), colon included.
_PREFIX_NAME = re.compile(r"(?:[A-Za-z](?:[\w.-]*[\w-])?)?:")


def _normal(tokens: list[tuple[str | None, str, bool]], based: bool) -> str:
    """The normal form of a lexed text (see ``Shape``).

    Only the prologue's ``PREFIX name: <iri>`` declarations are read (a ``PREFIX`` elsewhere is
    an error the parser reports, so it stays in the form); a prefixed name whose prefix is not
    declared stays as written, and so does one with an escape (``ex:a\\.b``). A local name's
    trailing dots end the triple, not the name.
    """
    prefixes: dict[str, str] = {}
    at = 0
    if not based:
        while (
            at + 2 < len(tokens)
            and tokens[at][0] == "name"
            and tokens[at][1].upper() == "PREFIX"
            and tokens[at + 1][0] == "name"
            and _PREFIX_NAME.fullmatch(tokens[at + 1][1])
            and tokens[at + 2][0] == "iri"
        ):
            prefixes[tokens[at + 1][1][:-1]] = tokens[at + 2][1][1:-1]
            at += 3
    out: list[str] = []
    previous = ""
    for kind, token, gap in tokens[at:]:
        if gap and out:
            out.append(" ")
        after = "" if gap else previous
        previous = token
        if kind == "name":
            prefix, colon, local = token.partition(":")
            if not colon:  # a keyword, or a language tag (kept: its case reaches the answer)
                keep = token in CASE_SENSITIVE or after == "@"
                out.append(token if keep else token.upper())
                continue
            namespace = prefixes.get(prefix)
            if namespace is not None and "\\" not in local:
                bare = local.rstrip(".")
                out.append(f"<{namespace}{bare}>")
                out.append(local[len(bare) :])
                continue
        out.append(token)
    return "".join(out)


def normal_form(text: str) -> str:
    """``text`` in the normal form that ``Shape.normal`` describes.

    >>> normal_form("prefix ex: <http://e/>\\nselect * { ?s ex:p ex:o. } # any comment")
    'SELECT * { ?s <http://e/p> <http://e/o>. }'
    >>> normal_form("select * {?s ?p ?o}") == normal_form("SELECT\\t*\\n  {?s ?p ?o} # all")
    True
    """
    return shape(text).normal


def iri_tokens(text: str) -> Iterator[tuple[str, str, int]]:
    """The tokens of a query text as this lexer reads it: (kind, text, offset), white space and
    comments left out; kinds are ``string``, ``iri``, ``var``, ``name``, ``number``, ``open``,
    ``close``, ``operator`` and ``other``. For tools that rewrite a text (the remote store puts
    its own graph names in) without touching its strings.

    >>> [(k, v) for k, v, _ in iri_tokens('ASK { <a> ?p "}" }')]
    [('name', 'ASK'), ('open', '{'), ('iri', '<a>'), ('var', '?p'), ('string', '"}"'), ('close', '}')]
    """
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield kind, match.group(), match.start()


def keywords(text: str) -> list[str]:
    """The bare keywords of a query, upper-cased, with strings, IRIs, comments and names removed.

    >>> keywords('PREFIX s: <http://x/service> SELECT ?service { ?s s:p "SERVICE" } # SERVICE')
    ['PREFIX', 'SELECT']
    """
    return list(shape(text).keywords)


def check_read_only(text: str) -> list[str]:
    """Refuse updates and federated queries, and texts the parser would not survive, before
    they reach the engine.

    Returns:
        The query's keywords (to see, e.g., whether it names its own dataset with FROM).

    Raises:
        QueryRefused: the text is a SPARQL Update, or uses SERVICE.
        QueryError: the text is beyond the lexer's limits (see ``shape``).

    >>> check_read_only("SELECT * { ?s ?p ?o }")
    ['SELECT']
    >>> check_read_only("DROP ALL")
    Traceback (most recent call last):
    ...
    leapsld.errors.QueryRefused: this endpoint is read-only: DROP (SPARQL Update) is not accepted
    """
    return list(check(text).keywords)


def check(text: str) -> Shape:
    """``check_read_only``, returning the whole ``Shape`` (its normal form keys answers)."""
    seen = shape(text)
    first = seen.form
    if first in UPDATE_KEYWORDS:
        raise QueryRefused(f"this endpoint is read-only: {first} (SPARQL Update) is not accepted")
    if "SERVICE" in seen.keywords or _SERVICE_ANYWHERE.search(unescape_codepoints(text)):
        raise QueryRefused("SERVICE is not allowed: this endpoint makes no outbound requests")
    return seen
