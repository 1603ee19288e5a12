"""Finding resources by label, and listing the members of a class, without asking the engine.

pyoxigraph has no text index, and a ``FILTER(CONTAINS(...))`` over a million triples costs
seconds; a deep ``OFFSET`` over a class's members costs as much. So once per dataset version,
in the background, one pass over the labels and types of the asserted graphs makes a small
index: every described resource under ``{base}id/`` with its best label and its classes,
sorted by label. A search is then a scan of short strings in memory (milliseconds at a
million triples), and a class page is a slice that starts after the last key shown.
"""

from __future__ import annotations

import bisect
import unicodedata
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
        for i, entry in enumerate(self.entries):
            for cls in entry.types:
                self.by_class.setdefault(cls, []).append(i)

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
        words = fold(text).split()
        if not words:
            return []
        whole = " ".join(words)
        ranked: list[tuple[int, int]] = []
        for i, key in enumerate(self.keys):
            if all(w in key for w in words):
                rank = 0 if key == whole else 1 if key.startswith(whole) else 2
                ranked.append((rank, i))
        ranked.sort()
        return [self.entries[i] for _, i in ranked[:limit]]

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


def build_index(store: Store, graphs: Sequence[str], *, prefix: str) -> LabelIndex:
    """The index of the resources described under ``prefix`` in ``graphs``: one pass over
    the subjects, labels and types, each read straight from the store's indexes.

    A resource's label is its first label predicate's value (``LABEL_PREDICATES`` order),
    English or untagged preferred; a resource with none is named by the end of its IRI.
    """
    rows = store.query(
        # ?prefix is bound, not spliced; pyoxigraph substitutes only projected variables
        "SELECT DISTINCT ?s ?prefix WHERE { ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?prefix)) }",
        default_graphs=list(graphs),
        substitutions={"prefix": pyoxigraph.Literal(prefix)},
    )
    assert isinstance(rows, pyoxigraph.QuerySolutions)
    subjects = {row[0].value for row in rows if isinstance(row[0], pyoxigraph.NamedNode)}
    labels: dict[str, tuple[tuple[int, int], str]] = {}
    for rank, predicate in enumerate(LABEL_PREDICATES):
        node = pyoxigraph.NamedNode(predicate)
        for graph in graphs:
            for q in store.quads(None, node, None, graph=graph):
                s, o = q.subject, q.object
                if not isinstance(s, pyoxigraph.NamedNode) or s.value not in subjects:
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
                and s.value in subjects
            ):
                types.setdefault(s.value, set()).add(o.value)
    return LabelIndex(
        [
            Entry(
                iri,
                labels[iri][1] if iri in labels else _local_name(iri),
                tuple(sorted(types.get(iri, ()))),
            )
            for iri in subjects
        ]
    )


def _local_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or iri
