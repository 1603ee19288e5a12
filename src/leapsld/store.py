"""Where the built dataset lives and is queried: the one door to the engine.

``Store`` is the protocol everything downstream reads through (queries, descriptions,
statistics, dumps, validation); ``OxigraphStore`` implements it on pyoxigraph, in memory or on
disk (RocksDB), and adds what building a dataset needs (parsing, bulk loading, dumping).
Nothing outside this module touches pyoxigraph's ``Store``: a killable query executor or a
remote SPARQL engine then fits behind the same door, and ``tests/test_store_contract.py`` is
what any implementation must pass.

pyoxigraph releases the GIL while it evaluates, so threads keep answering while one query runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pyoxigraph

Term = pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal
#: What can stand as a subject (a literal cannot: pyoxigraph raises TypeError for one).
Subject = pyoxigraph.NamedNode | pyoxigraph.BlankNode
#: A graph query's triples may come as any iterator of them (a remote engine's, parsed).
QueryResult = (
    pyoxigraph.QuerySolutions
    | pyoxigraph.QueryTriples
    | pyoxigraph.QueryBoolean
    | Iterator[pyoxigraph.Triple]
)


class Store(Protocol):
    """What the query, describe, publish and validation modules need from a store."""

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult: ...

    def quads(
        self,
        subject: Subject | None = None,
        predicate: pyoxigraph.NamedNode | None = None,
        obj: Term | None = None,
        graph: str | None = None,
    ) -> Iterator[pyoxigraph.Quad]: ...

    def contains(self, quad: pyoxigraph.Quad) -> bool: ...

    def graphs(self) -> list[str]: ...

    def graph_sizes(self, graphs: Sequence[str]) -> dict[str, int]: ...

    def __len__(self) -> int: ...


class OxigraphStore:
    """An embedded pyoxigraph store, in memory (``path=None``) or in a folder on disk."""

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        if path is None:
            self._store = pyoxigraph.Store()
        elif read_only:
            self._store = pyoxigraph.Store.read_only(str(path))
        else:
            self._store = pyoxigraph.Store(str(path))

    # Reading ------------------------------------------------------------------------------

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        """Evaluate a SPARQL query.

        The RDF dataset is ``default_graphs``/``named_graphs`` when given (SPARQL Protocol);
        else, with ``union``, the default graph is the union of all graphs; else the query's own
        ``FROM``/``FROM NAMED`` (or the store's default graph) decide. ``substitutions`` bind
        variables to terms before evaluation (SEP-0007), so that no term from a request is ever
        spliced into query text.

        Raises:
            SyntaxError: the query is malformed (``query.run_query`` turns it into QueryError).
            ValueError: a graph name is not an IRI.
        """
        bound: dict[pyoxigraph.Variable, Term | pyoxigraph.Triple] | None = (
            {pyoxigraph.Variable(k): v for k, v in substitutions.items()} if substitutions else None
        )
        if default_graphs is None and named_graphs is None:
            return self._store.query(text, use_default_graph_as_union=union, substitutions=bound)
        return self._store.query(
            text,
            default_graph=[pyoxigraph.NamedNode(g) for g in default_graphs or ()],
            named_graphs=[pyoxigraph.NamedNode(g) for g in named_graphs or ()],
            substitutions=bound,
        )

    def quads(
        self,
        subject: Subject | None = None,
        predicate: pyoxigraph.NamedNode | None = None,
        obj: Term | None = None,
        graph: str | None = None,
    ) -> Iterator[pyoxigraph.Quad]:
        """Quads matching a pattern, in one named graph or across every graph."""
        name = None if graph is None else pyoxigraph.NamedNode(graph)
        return self._store.quads_for_pattern(subject, predicate, obj, name)

    def contains(self, quad: pyoxigraph.Quad) -> bool:
        """Whether the store holds this very quad."""
        return quad in self._store

    def graphs(self) -> list[str]:
        """The named graphs, sorted."""
        return sorted(
            g.value for g in self._store.named_graphs() if isinstance(g, pyoxigraph.NamedNode)
        )

    def graph_sizes(self, graphs: Sequence[str]) -> dict[str, int]:
        """How many quads each of ``graphs`` holds (graphs with none are left out)."""
        if not graphs:
            return {}
        result = self._store.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            named_graphs=[pyoxigraph.NamedNode(g) for g in graphs],
        )
        assert isinstance(result, pyoxigraph.QuerySolutions)
        return {row["g"].value: int(row["n"].value) for row in result}

    def __iter__(self) -> Iterator[pyoxigraph.Quad]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)

    # Writing (only while a dataset is built) ----------------------------------------------

    def add_quads(self, quads: Iterable[pyoxigraph.Quad]) -> None:
        """Add quads in one transaction."""
        self._store.extend(quads)

    def load(
        self,
        data: bytes,
        *,
        format: pyoxigraph.RdfFormat,
        graph: str | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Parse ``data`` in one transaction: a triple format into ``graph`` (or the default
        graph), a quad format as it says.

        Raises:
            SyntaxError: with the line and column pyoxigraph found.
            ValueError, OSError: the data cannot be read.
        """
        to_graph = None if graph is None else pyoxigraph.NamedNode(graph)
        self._store.load(data, format=format, to_graph=to_graph, base_iri=base_iri)

    def canonicalize_blank_nodes(self, graphs: Sequence[str], *, prefix: str) -> int:
        """Relabel the blank nodes of ``graphs`` (one file's graphs) canonically, so that the
        same bytes always load as the same labels: the parser draws fresh ones at every load,
        and every dump, document and ETag would change with them. The nodes stay blank (a
        shape may require it); ``prefix`` keeps two files' nodes apart.

        Returns:
            How many quads were relabelled.
        """
        if not graphs:
            return 0
        result = self._store.query(
            "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } }",
            named_graphs=[pyoxigraph.NamedNode(g) for g in graphs],
        )
        assert isinstance(result, pyoxigraph.QuerySolutions)
        found = [pyoxigraph.Quad(row["s"], row["p"], row["o"], row["g"]) for row in result]
        if not found:
            return 0
        canonical = pyoxigraph.Dataset(found)
        canonical.canonicalize(pyoxigraph.CanonicalizationAlgorithm.UNSTABLE)

        def label(
            term: pyoxigraph.NamedNode
            | pyoxigraph.BlankNode
            | pyoxigraph.Literal
            | pyoxigraph.Triple,
        ) -> object:
            if isinstance(term, pyoxigraph.BlankNode):
                return pyoxigraph.BlankNode(prefix + term.value)
            return term

        for quad in found:
            self._store.remove(quad)
        relabelled = [
            pyoxigraph.Quad(label(q.subject), q.predicate, label(q.object), q.graph_name)  # type: ignore[arg-type]
            for q in canonical
        ]
        # in one fixed order: the store hands quads back in the order they went in
        self._store.extend(sorted(relabelled, key=str))
        return len(found)

    def dump(self, path: Path, *, format: pyoxigraph.RdfFormat) -> None:
        """Write every quad to ``path`` (a quad format)."""
        self._store.dump(str(path), format=format)

    def bulk_load(self, path: Path, *, format: pyoxigraph.RdfFormat) -> None:
        """Load a large file without a transaction (RocksDB writes sorted tables directly)."""
        self._store.bulk_load(path=str(path), format=format)

    def flush(self) -> None:
        """Persist an on-disk store (no-op in memory)."""
        if self.path is not None:
            self._store.flush()
