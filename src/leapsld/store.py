"""Where the built dataset lives and is queried.

``Store`` is the small protocol the rest of leapsld needs; ``OxigraphStore`` implements it on
pyoxigraph, in memory or on disk (RocksDB). pyoxigraph releases the GIL while it evaluates, so
threads keep answering while one query runs. A remote SPARQL engine can implement the same
protocol later without anything downstream changing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Protocol

import pyoxigraph

Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal
QueryResult = pyoxigraph.QuerySolutions | pyoxigraph.QueryTriples | pyoxigraph.QueryBoolean


class Store(Protocol):
    """What the query, describe and publish modules need from a store."""

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
    ) -> QueryResult: ...

    def quads(
        self,
        subject: Term | None = None,
        predicate: pyoxigraph.NamedNode | None = None,
        obj: Term | None = None,
    ) -> Iterator[pyoxigraph.Quad]: ...

    def graphs(self) -> list[str]: ...

    def __len__(self) -> int: ...


class OxigraphStore:
    """An embedded pyoxigraph store, in memory (``path=None``) or in a folder on disk."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        if path is None:
            self.inner = pyoxigraph.Store()
        elif read_only:
            self.inner = pyoxigraph.Store.read_only(str(path))
        else:
            self.inner = pyoxigraph.Store(str(path))

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
    ) -> QueryResult:
        """Evaluate a SPARQL query.

        The RDF dataset is ``default_graphs``/``named_graphs`` when given (SPARQL Protocol);
        else, with ``union``, the default graph is the union of all graphs; else the query's own
        ``FROM``/``FROM NAMED`` (or the store's default graph) decide.

        Raises:
            SyntaxError: the query is malformed (``query.run_query`` turns it into QueryError).
            ValueError: a graph name is not an IRI.
        """
        if default_graphs is None and named_graphs is None:
            return self.inner.query(text, use_default_graph_as_union=union)
        return self.inner.query(
            text,
            default_graph=[pyoxigraph.NamedNode(g) for g in default_graphs or ()],
            named_graphs=[pyoxigraph.NamedNode(g) for g in named_graphs or ()],
        )

    def quads(
        self,
        subject: Term | None = None,
        predicate: pyoxigraph.NamedNode | None = None,
        obj: Term | None = None,
    ) -> Iterator[pyoxigraph.Quad]:
        """Quads matching a pattern, across every graph."""
        return self.inner.quads_for_pattern(subject, predicate, obj, None)

    def add_quads(self, quads: Iterable[pyoxigraph.Quad]) -> None:
        """Add quads in one transaction."""
        self.inner.extend(quads)

    def graphs(self) -> list[str]:
        """The named graphs, sorted."""
        return sorted(
            g.value for g in self.inner.named_graphs() if isinstance(g, pyoxigraph.NamedNode)
        )

    def graph_quads(self, graph: str) -> Iterator[pyoxigraph.Quad]:
        """Every quad of one named graph."""
        return self.inner.quads_for_pattern(None, None, None, pyoxigraph.NamedNode(graph))

    def __iter__(self) -> Iterator[pyoxigraph.Quad]:
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)

    def flush(self) -> None:
        """Persist an on-disk store (no-op in memory)."""
        if self.path is not None:
            self.inner.flush()
