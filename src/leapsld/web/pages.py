"""HTML views of graphs: turn triples into what a template shows (labels, local links)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph

from ..iris import local_url
from ..namespaces import LABEL_PREDICATES, RDF_TYPE
from ..serialization import short


@dataclass
class Term:
    """A term as a page shows it: text, an optional link, and a hint (datatype or language)."""

    text: str
    href: str | None = None
    hint: str | None = None
    iri: str | None = None


@dataclass
class ResourceView:
    """One resource's page: its label, types, properties and inverse links."""

    iri: str
    label: str
    types: list[Term] = field(default_factory=list)
    properties: list[tuple[Term, list[Term]]] = field(default_factory=list)
    inverse: list[tuple[Term, list[Term]]] = field(default_factory=list)


#: The schemes a page links to; any other IRI (``javascript:``, ``data:``) is shown as text.
WEB_SCHEMES = ("http", "https", "mailto")


def web_link(url: object) -> str | None:
    """``url`` when a page may link to it (http, https or mailto), else None.

    >>> web_link("https://example.org/licence"), web_link(" JavaScript:alert(1)")
    ('https://example.org/licence', None)
    """
    text = str(url or "").strip()
    scheme, colon, _ = text.partition(":")
    if not colon or scheme.lower() not in WEB_SCHEMES:
        return None
    if any(ord(c) <= 0x20 or c in '<>"' for c in text):
        return None
    return text


_LABEL_RANK = {p: i for i, p in enumerate(LABEL_PREDICATES)}


class Labeller:
    """Shows terms with labels found in a graph, links rewritten to this server's origin."""

    def __init__(
        self, triples: list[pyoxigraph.Triple], *, origin: str, base: str, prefixes: dict[str, str]
    ):
        self.origin, self.base, self.prefixes = origin, base, prefixes
        self.labels: dict[object, str] = {}
        ranks: dict[object, tuple[int, int]] = {}
        for t in triples:
            rank_of_predicate = _LABEL_RANK.get(t.predicate.value)
            if rank_of_predicate is None or not isinstance(t.object, pyoxigraph.Literal):
                continue
            rank = (rank_of_predicate, 0 if t.object.language in ("en", None, "") else 1)
            if t.subject not in ranks or rank < ranks[t.subject]:
                ranks[t.subject] = rank
                self.labels[t.subject] = t.object.value

    def term(self, node: object) -> Term:
        if isinstance(node, pyoxigraph.NamedNode):
            text = self.labels.get(node) or short(node, self.prefixes)
            # only web links become links: a javascript: or data: IRI in the data stays text
            href = web_link(local_url(self.origin, self.base, node.value))
            return Term(text, href, None, node.value)
        if isinstance(node, pyoxigraph.Literal):
            hint = node.language or short(node.datatype, self.prefixes)
            return Term(node.value, None, None if hint == "xsd:string" else hint)
        return Term(short(node, self.prefixes))


def resource_view(
    iri: str, triples: list[pyoxigraph.Triple], *, origin: str, base: str, prefixes: dict[str, str]
) -> ResourceView:
    """Group a description's triples into the sections of a resource page."""
    labeller = Labeller(triples, origin=origin, base=base, prefixes=prefixes)
    me = pyoxigraph.NamedNode(iri)
    view = ResourceView(iri, labeller.labels.get(me) or short(me, prefixes))
    forward: dict[object, list[Term]] = defaultdict(list)
    backward: dict[object, list[Term]] = defaultdict(list)
    for t in triples:
        if t.subject == me:
            if t.predicate.value == RDF_TYPE:
                view.types.append(labeller.term(t.object))
            else:
                forward[t.predicate].append(_nested(labeller, t.object, triples))
        elif t.object == me:
            backward[t.predicate].append(labeller.term(t.subject))
    view.properties = [
        (labeller.term(p), sorted(v, key=lambda x: x.text)) for p, v in forward.items()
    ]
    view.properties.sort(key=lambda item: item[0].text.lower())
    view.inverse = [
        (labeller.term(p), sorted(v, key=lambda x: x.text)) for p, v in backward.items()
    ]
    view.inverse.sort(key=lambda item: item[0].text.lower())
    return view


def _nested(labeller: Labeller, node: object, triples: list[pyoxigraph.Triple]) -> Term:
    """A blank node is shown inline as ``property: value; …`` from its closure."""
    if not isinstance(node, pyoxigraph.BlankNode):
        return labeller.term(node)
    parts = [
        f"{labeller.term(t.predicate).text}: {labeller.term(t.object).text}"
        for t in triples
        if t.subject == node
    ]
    return Term("; ".join(sorted(parts)) or "[]")
