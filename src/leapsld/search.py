"""Finding resources by label, and listing the members of a class, without asking the engine.

pyoxigraph has no text index, and a ``FILTER(CONTAINS(...))`` over a million triples costs
seconds; a deep ``OFFSET`` over a class's members costs as much. So once per dataset version,
in the background, one pass over the labels and types of the asserted graphs makes a small
index: every resource under ``{base}id/`` that has a label or a type, with its best label and
its classes, sorted by label, and the words of the labels, sorted, each with the resources
whose label has it. A search looks up each word it is given as the start of a label's word
(a binary search and a union), intersects, and ranks; a class page is a slice that starts
after the last key shown.
"""

from __future__ import annotations

import bisect
import heapq
import json
import re
import unicodedata
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph

from .namespaces import LABEL_PREDICATES, RDF_TYPE
from .store import Store

#: How many hits a search returns at most, and how many members a class page lists.
SEARCH_LIMIT = 50
PAGE_SIZE = 100


@dataclass(frozen=True)
class Entry:
    """One resource as the index knows it: its IRI, best label and classes."""

    iri: str
    label: str
    types: tuple[str, ...] = ()


def fold(text: str) -> str:
    """Text as a search compares it: case and accents folded, spaces collapsed.

    >>> fold("  Société   Générale ")
    'societe generale'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


class LabelIndex:
    """The resources of one dataset version, by label and by class."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = sorted(entries, key=lambda e: (fold(e.label), e.iri))
        self.keys = [fold(e.label) for e in self.entries]
        self.position = {e.iri: i for i, e in enumerate(self.entries)}
        self.by_class: dict[str, list[int]] = {}
        postings: dict[str, array[int]] = {}
        for i, entry in enumerate(self.entries):
            for cls in entry.types:
                self.by_class.setdefault(cls, []).append(i)
            for word in set(_WORD.findall(self.keys[i])):
                postings.setdefault(word, array("I")).append(i)
        #: Every word of every label, sorted, and the resources (positions) having each.
        self.words = sorted(postings)
        self.postings = [postings[w] for w in self.words]

    def __len__(self) -> int:
        return len(self.entries)

    def label(self, iri: str) -> str | None:
        at = self.position.get(iri)
        return None if at is None else self.entries[at].label

    def search(self, text: str, *, limit: int = SEARCH_LIMIT) -> list[Entry]:
        """The resources whose label holds every word of ``text``: whole label first, then
        labels that start with it, then the rest, each group in label order.

        >>> index = LabelIndex([Entry("x:1", "Light for Ukraine"), Entry("x:2", "Ukraine")])
        >>> [e.label for e in index.search("ukr")]
        ['Ukraine', 'Light for Ukraine']
        """
        words = _WORD.findall(fold(text))
        if not words:
            return []
        found: set[int] | None = None
        for word in sorted(set(words), key=len, reverse=True):  # the longest narrows most
            having = self._starting(word)
            found = having if found is None else found & having
            if not found:
                return []
        assert found is not None
        # labels that start with the text are one run of the sorted keys, the equal ones first
        whole = " ".join(fold(text).split())
        lo = bisect.bisect_left(self.keys, whole)
        hi = bisect.bisect_left(self.keys, whole + "\U0010ffff")
        ranked = [i for i in range(lo, hi) if i in found][:limit]
        if len(ranked) < limit:
            others = heapq.nsmallest(limit + hi - lo, found)
            ranked += [i for i in others if not lo <= i < hi][: limit - len(ranked)]
        return [self.entries[i] for i in ranked]

    def _starting(self, word: str) -> set[int]:
        """The resources with a label word that starts with ``word``."""
        lo = bisect.bisect_left(self.words, word)
        hi = bisect.bisect_left(self.words, word + "\U0010ffff")
        found: set[int] = set()
        for postings in self.postings[lo:hi]:
            found.update(postings)
        return found

    def members(
        self, cls: str, *, after: str | None = None, limit: int = PAGE_SIZE
    ) -> tuple[list[Entry], str | None]:
        """One page of a class's members in label order, starting after the member ``after``
        (an IRI); and the key of the next page, None on the last.

        The key is the last IRI shown, not a number: a page costs a binary search however
        deep it is, and a page link stays right while nothing before it changes.

        Raises:
            KeyError: ``after`` is not a member of ``cls``.
        """
        rows = self.by_class.get(cls, [])
        start = 0
        if after is not None:
            at = self.position.get(after)
            start = bisect.bisect_right(rows, at) if at is not None else -1
            if at is None or start == 0 or rows[start - 1] != at:
                raise KeyError(after)
        page = [self.entries[i] for i in rows[start : start + limit]]
        following = page[-1].iri if page and start + limit < len(rows) else None
        return page, following

    def count(self, cls: str) -> int:
        return len(self.by_class.get(cls, ()))

    def iris(self) -> Iterator[str]:
        """Every indexed resource, in code-point order (the sitemap's order)."""
        return iter(sorted(self.position))


def build_index(
    store: Store, graphs: Sequence[str], *, prefix: str, kinds: Sequence[str] = ()
) -> LabelIndex:
    """The index of the resources under ``prefix`` with a label or a type in ``graphs``."""
    return LabelIndex(index_entries(store, graphs, prefix=prefix, kinds=kinds))


def entries_to_json(entries: Sequence[Entry]) -> str:
    """Entries as JSON: a background job makes them, a serving process indexes them."""
    return json.dumps([[e.iri, e.label, list(e.types)] for e in entries])


def entries_from_json(text: str) -> list[Entry]:
    """Entries as ``entries_to_json`` wrote them.

    Raises:
        ValueError, TypeError: not such a record.
    """
    return [
        Entry(str(iri), str(label), tuple(map(str, types)))
        for iri, label, types in json.loads(text)
    ]


def index_entries(
    store: Store, graphs: Sequence[str], *, prefix: str, kinds: Sequence[str] = ()
) -> list[Entry]:
    """The resources under ``prefix`` with a label or a type in ``graphs``: one pass over the
    label and type statements, read straight from the store's indexes.

    A resource's classes are its ``rdf:type`` values and, for each property of ``kinds``
    (``views.toml``; e.g. ``org:classification``), its values with every concept they are
    narrower than (``skos:broader``, transitively): so a home page can offer "facilities" or
    "funders" where the data tells them apart by a concept rather than a class.

    A resource's label is its first label predicate's value (``LABEL_PREDICATES`` order),
    English or untagged preferred; a resource with none is named by the end of its IRI.
    """
    labels: dict[str, tuple[tuple[int, int], str]] = {}
    for rank, predicate in enumerate(LABEL_PREDICATES):
        node = pyoxigraph.NamedNode(predicate)
        for graph in graphs:
            for q in store.quads(None, node, None, graph=graph):
                s, o = q.subject, q.object
                if not isinstance(s, pyoxigraph.NamedNode) or not s.value.startswith(prefix):
                    continue
                if not isinstance(o, pyoxigraph.Literal):
                    continue
                key = (
                    rank,
                    0
                    if o.language in (None, "", "en") or (o.language or "").startswith("en-")
                    else 1,
                )
                if s.value not in labels or key < labels[s.value][0]:
                    labels[s.value] = (key, o.value)
    types: dict[str, set[str]] = {}
    rdf_type = pyoxigraph.NamedNode(RDF_TYPE)
    for graph in graphs:
        for q in store.quads(None, rdf_type, None, graph=graph):
            s, o = q.subject, q.object
            if (
                isinstance(s, pyoxigraph.NamedNode)
                and isinstance(o, pyoxigraph.NamedNode)
                and s.value.startswith(prefix)
            ):
                types.setdefault(s.value, set()).add(o.value)
    if kinds:
        broader: dict[str, set[str]] = {}
        skos_broader = pyoxigraph.NamedNode(SKOS_BROADER)
        for graph in graphs:
            for q in store.quads(None, skos_broader, None, graph=graph):
                if isinstance(q.subject, pyoxigraph.NamedNode) and isinstance(
                    q.object, pyoxigraph.NamedNode
                ):
                    broader.setdefault(q.subject.value, set()).add(q.object.value)
        for kind in kinds:
            node = pyoxigraph.NamedNode(kind)
            for graph in graphs:
                for q in store.quads(None, node, None, graph=graph):
                    s, o = q.subject, q.object
                    if (
                        isinstance(s, pyoxigraph.NamedNode)
                        and isinstance(o, pyoxigraph.NamedNode)
                        and s.value.startswith(prefix)
                    ):
                        types.setdefault(s.value, set()).update(_with_broader(o.value, broader))
    return [
        Entry(
            iri,
            labels[iri][1] if iri in labels else _local_name(iri),
            tuple(sorted(types.get(iri, ()))),
        )
        for iri in sorted({*labels, *types})
    ]


_WORD = re.compile(r"\w+")
SKOS_BROADER = "http://www.w3.org/2004/02/skos/core#broader"


def _with_broader(concept: str, broader: dict[str, set[str]]) -> set[str]:
    """``concept`` and every concept it is narrower than (cycles in the data end the walk)."""
    seen = {concept}
    todo = [concept]
    while todo:
        for parent in broader.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def _local_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri
