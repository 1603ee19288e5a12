"""HTML views of graphs: turn triples into what a template shows (labels, local links)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyoxigraph
from flask import render_template
from markupsafe import Markup, escape

from ..formats import Format
from ..iris import local_url
from ..namespaces import LABEL_PREDICATES, PREFIXES, RDF_TYPE
from ..pictures import Neighbour, neighbourhood
from ..reference import humanise
from ..serialization import short
from .http import origin
from .site import Body, Site


@dataclass
class Term:
    """A term as a page shows it: text, an optional link, and a hint (datatype or language)."""

    text: str
    href: str | None = None
    hint: str | None = None
    iri: str | None = None
    #: A vocabulary term's prefixed name (``org:member``), the tooltip of its label.
    prefixed: str | None = None


@dataclass
class ResourceView:
    """One resource's page: its label, types, properties and inverse links."""

    iri: str
    label: str
    types: list[Term] = field(default_factory=list)
    properties: list[tuple[Term, list[Term]]] = field(default_factory=list)
    inverse: list[tuple[Term, list[Term]]] = field(default_factory=list)
    #: How many resources link to this one by each property (all pages), by property IRI.
    inverse_counts: dict[str, int] = field(default_factory=dict)
    picture: str = ""
    jsonld: str = ""


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
    iri: str,
    triples: list[pyoxigraph.Triple],
    *,
    origin: str,
    base: str,
    prefixes: dict[str, str],
    terms: dict[str, str] | None = None,
    page_url: str = "",
) -> ResourceView:
    """Group a description's triples into the sections of a resource page: properties and
    classes named by the ontology's labels (``terms``), values written as people read them."""
    labeller = PageLabeller(triples, origin=origin, base=base, prefixes=prefixes, terms=terms)
    me = pyoxigraph.NamedNode(iri)
    view = ResourceView(iri, labeller.labels.get(me) or short(me, prefixes))
    forward: dict[object, list[Term]] = defaultdict(list)
    backward: dict[object, list[Term]] = defaultdict(list)
    for t in triples:
        if t.subject == me:
            if t.predicate.value == RDF_TYPE and isinstance(t.object, pyoxigraph.NamedNode):
                view.types.append(labeller.vocabulary(t.object))
            else:
                forward[t.predicate].append(_nested(labeller, t.object, triples))
        elif t.object == me:
            backward[t.predicate].append(labeller.term(t.subject))
    view.properties = [
        (labeller.vocabulary(p), sorted(v, key=lambda x: x.text))
        for p, v in forward.items()
        if isinstance(p, pyoxigraph.NamedNode)
    ]
    view.properties.sort(key=lambda item: item[0].text.lower())
    view.inverse = [
        (labeller.vocabulary(p), sorted(v, key=lambda x: x.text))
        for p, v in backward.items()
        if isinstance(p, pyoxigraph.NamedNode)
    ]
    view.inverse.sort(key=lambda item: item[0].text.lower())
    _bounds(view, triples, me)
    neighbours = [
        Neighbour(v.text, p.text, v.href, True)
        for p, values in view.properties
        for v in values
        if v.iri and v.href and v.href.startswith(origin)
    ] + [Neighbour(v.text, p.text, v.href, False) for p, values in view.inverse for v in values]
    if neighbours:
        view.picture = neighbourhood(view.label, neighbours)
    view.jsonld = schema_org(view, triples, me, page_url)
    return view


_SCHEMA = PREFIXES["schema"]
_MIN, _MAX = _SCHEMA + "minValue", _SCHEMA + "maxValue"


def _bounds(view: ResourceView, triples: list[pyoxigraph.Triple], me: pyoxigraph.NamedNode) -> None:
    """A lower or upper bound reads as one: "at least 500", "more than 500" where the resource
    says the bound itself is excluded (a true ``…minExclusive``/``…maxExclusive`` value)."""
    excluded = {
        t.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        for t in triples
        if t.subject == me
        and isinstance(t.object, pyoxigraph.Literal)
        and t.object.value in ("true", "1")
        and t.object.datatype.value.endswith("#boolean")
    }
    for prop, values in view.properties:
        if prop.iri == _MIN:
            word = "more than" if "minExclusive" in excluded else "at least"
        elif prop.iri == _MAX:
            word = "less than" if "maxExclusive" in excluded else "at most"
        else:
            continue
        for v in values:
            v.text = f"{word} {v.text}"


def schema_org(
    view: ResourceView, triples: list[pyoxigraph.Triple], me: pyoxigraph.NamedNode, url: str
) -> str:
    """The page's schema.org JSON-LD for search engines: name, description, types that are
    schema.org's (else ``Thing``), and the same-as links."""
    types = [t.iri[len(_SCHEMA) :] for t in view.types if t.iri and t.iri.startswith(_SCHEMA)]
    doc: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": types or "Thing",
        "@id": view.iri,
        "name": view.label,
    }
    if url:
        doc["url"] = url
    same = sorted(
        {
            t.object.value
            for t in triples
            if t.subject == me
            and isinstance(t.object, pyoxigraph.NamedNode)
            and t.predicate.value in (_SAME_AS, _SCHEMA + "sameAs")
        }
    )
    if same:
        doc["sameAs"] = same
    for t in triples:
        if (
            t.subject == me
            and t.predicate.value in (_SCHEMA + "description", _DCT_DESCRIPTION)
            and isinstance(t.object, pyoxigraph.Literal)
        ):
            doc["description"] = t.object.value
            break
    # "</" would end the script element the JSON sits in
    return json.dumps(doc, ensure_ascii=False, indent=1).replace("</", "<\\/")


_SAME_AS = PREFIXES["owl"] + "sameAs"
_DCT_DESCRIPTION = PREFIXES["dcterms"] + "description"
#: Identifier registries a link is named by (a foreign IRI otherwise shows its host and path).
REGISTRIES = {
    "ror.org": "ROR",
    "www.wikidata.org": "Wikidata",
    "orcid.org": "ORCID",
    "doi.org": "DOI",
    "viaf.org": "VIAF",
    "isni.org": "ISNI",
}
_XSD = PREFIXES["xsd"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def human_literal(node: pyoxigraph.Literal) -> tuple[str, str | None]:
    """A literal's text as a person reads it, and the hint shown beside it (its language, or
    the datatype of a value not rewritten).

    >>> human_literal(pyoxigraph.Literal("20000", datatype=pyoxigraph.NamedNode(_XSD + "integer")))
    ('20,000', None)
    >>> human_literal(pyoxigraph.Literal("2026-12-02", datatype=pyoxigraph.NamedNode(_XSD + "date")))
    ('2 December 2026', None)
    """
    value, datatype = node.value, node.datatype.value
    if node.language:
        return value, node.language
    kind = datatype[len(_XSD) :] if datatype.startswith(_XSD) else None
    try:
        if kind in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger"):
            return f"{int(value):,}", None
        if kind in ("decimal", "double", "float"):
            number = float(value)
            return (f"{number:,.0f}" if number.is_integer() else f"{number:,}"), None
        if kind == "date" and len(value) >= 10:
            y, m, d = value[:4], int(value[5:7]), int(value[8:10])
            return f"{d} {_MONTHS[m - 1]} {y}", None
        if kind == "dateTime" and len(value) >= 16:
            y, m, d = value[:4], int(value[5:7]), int(value[8:10])
            return f"{d} {_MONTHS[m - 1]} {y}, {value[11:16]}", None
        if kind == "gYearMonth" and len(value) >= 7:
            return f"{_MONTHS[int(value[5:7]) - 1]} {value[:4]}", None
    except (ValueError, IndexError):
        pass
    if kind in ("gYear", "string"):
        return value, None
    if kind == "boolean":
        return ("yes" if value in ("true", "1") else "no"), None
    return value, (f"xsd:{kind}" if kind else datatype)


class PageLabeller(Labeller):
    """A ``Labeller`` for pages people read: terms by their ontology labels, literals as
    people write them, identifier registries by name."""

    def __init__(
        self,
        triples: list[pyoxigraph.Triple],
        *,
        origin: str,
        base: str,
        prefixes: dict[str, str],
        terms: dict[str, str] | None = None,
    ):
        super().__init__(triples, origin=origin, base=base, prefixes=prefixes)
        self.terms = terms or {}

    def vocabulary(self, node: pyoxigraph.NamedNode, *, browse: str | None = None) -> Term:
        """A property or class: its label, its prefixed name as the hint people hover."""
        text = self.terms.get(node.value) or self.labels.get(node) or humanise(node.value)
        href = browse or web_link(local_url(self.origin, self.base, node.value))
        return Term(text, href, None, node.value, short(node, self.prefixes))

    def term(self, node: object) -> Term:
        if isinstance(node, pyoxigraph.Literal):
            text, hint = human_literal(node)
            return Term(text, None, hint)
        if isinstance(node, pyoxigraph.NamedNode) and node not in self.labels:
            host = node.value.split("/")[2] if node.value.count("/") >= 2 else ""
            if host in REGISTRIES:
                tail = node.value.rstrip("/").rsplit("/", 1)[-1]
                return Term(f"{REGISTRIES[host]} {tail}", web_link(node.value), None, node.value)
            if self.terms.get(node.value):
                return Term(
                    self.terms[node.value],
                    web_link(local_url(self.origin, self.base, node.value)),
                    None,
                    node.value,
                )
        return super().term(node)


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


def graph_view(
    triples: list[pyoxigraph.Triple],
    *,
    origin: str,
    base: str,
    prefixes: dict[str, str],
    terms: dict[str, str] | None = None,
) -> list[tuple[Term, list[Term], list[tuple[Term, list[Term]]]]]:
    """A whole graph as a page shows it (VoID, the shapes): one section per named subject,
    with its types and properties, blank nodes written inline."""
    labeller = PageLabeller(triples, origin=origin, base=base, prefixes=prefixes, terms=terms)
    subjects = list(
        dict.fromkeys(t.subject for t in triples if isinstance(t.subject, pyoxigraph.NamedNode))
    )
    sections = []
    for subject in subjects:
        types: list[Term] = []
        forward: dict[pyoxigraph.NamedNode, list[Term]] = defaultdict(list)
        for t in triples:
            if t.subject != subject:
                continue
            if t.predicate.value == RDF_TYPE and isinstance(t.object, pyoxigraph.NamedNode):
                types.append(labeller.vocabulary(t.object))
            else:
                forward[t.predicate].append(_nested(labeller, t.object, triples))
        props = sorted(
            ((labeller.vocabulary(p), sorted(v, key=lambda x: x.text)) for p, v in forward.items()),
            key=lambda item: item[0].text.lower(),
        )
        heading = labeller.term(subject)
        heading.text = heading.text.removeprefix("<").removesuffix(">")
        sections.append((heading, types, props))
    return sections


def graph_page(
    site: Site,
    title: str,
    intro: str,
    triples: list[pyoxigraph.Triple],
    path: str,
    formats: Sequence[Format],
) -> Body:
    """A graph document (VoID, shapes) as a page people can read."""
    sections = graph_view(
        triples,
        origin=origin(),
        base=site.base,
        prefixes=site.prefixes,
        terms=site.terms,
    )
    html = render_template(
        "graph.html",
        title=title,
        intro=intro,
        sections=sections,
        path=path,
        formats=[f for f in formats if f.kind != "page"],
    )
    return Body(html.encode())


_URL = re.compile(r"https?://[^\s,<>\"']+")


def linkify(text: object, only: str = "") -> Markup:
    """Plain text (an error's detail) with its web addresses that start with ``only`` (this
    server's) as links, the rest escaped: a 404's suggestions become places to go, and the
    canonical IRI it could not find stays text.

    >>> str(linkify("no https://w3id.org/z; see http://x/doc/a, or <b>.", "http://x/"))
    'no https://w3id.org/z; see <a href="http://x/doc/a">http://x/doc/a</a>, or &lt;b&gt;.'
    """
    out, last = [], 0
    source = str(text)
    for m in _URL.finditer(source):
        url = m.group(0).rstrip(".;:)")
        if not url.startswith(only):
            continue
        end = m.start() + len(url)
        out.append(str(escape(source[last : m.start()])))
        out.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        last = end
    out.append(str(escape(source[last:])))
    return Markup("".join(out))
