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

import re
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

#: The file, inside an on-disk store's folder, that says its default graph is a real one (a
#: set, materialised when it was built): every process that opens the folder then reads it so,
#: the query processes included, which open it by its path alone.
REAL_DEFAULT_MARK = "leapsld-default-graph"

#: The tokens of a query's text that can hide a keyword (IRIs, strings, comments, escapes), and
#: the keywords that can reach past the default graph: ``GRAPH``, ``FROM``, ``FROM NAMED``.
_TOKENS = re.compile(
    r"<[^<>\"{}|^`\\\s]*>"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|\\.|#[^\n]*|\b(?P<keyword>GRAPH|FROM)\b",
    re.IGNORECASE,
)


def reaches_named(text: str) -> bool:
    """Whether a query can read a named graph: ``GRAPH`` or ``FROM`` outside its IRIs, strings
    and comments (in one pass). A false yes only sends it to the store that holds everything
    (the same answer, more slowly); a text too broken to lex is a yes."""
    return any(m.group("keyword") for m in _TOKENS.finditer(text))


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
    """An embedded pyoxigraph store, in memory (``path=None``) or in a folder on disk.

    Its default graph is either *real* (``real_default``: a set, filled by the builder,
    ``materialise_default_graph`` for a dataset of files; an on-disk store says so itself with
    ``REAL_DEFAULT_MARK``) or, for the stores that only stage files, the union of its named
    graphs, which pyoxigraph 0.5 merges as a bag (a triple in two graphs comes back twice).
    """

    def __init__(
        self, path: Path | None = None, *, read_only: bool = False, real_default: bool = False
    ) -> None:
        self.path = path
        if path is None:
            self._store = pyoxigraph.Store()
        elif read_only:
            self._store = pyoxigraph.Store.read_only(str(path))
        else:
            self._store = pyoxigraph.Store(str(path))
        self.real_default = real_default or (
            path is not None and (path / REAL_DEFAULT_MARK).is_file()
        )

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
        else the query's own ``FROM``/``FROM NAMED``, else the store's default graph: its real
        one when it has one (``union`` is then moot), else, with ``union``, the union of all
        graphs. ``substitutions`` bind
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
            return self._store.query(
                text,
                use_default_graph_as_union=union and not self.real_default,
                substitutions=bound,
            )
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
        """Quads matching a pattern, in one named graph, or else in the default graph when the
        store has a real one (each triple once), else across every graph."""
        name: pyoxigraph.NamedNode | pyoxigraph.DefaultGraph | None = None
        if graph is not None:
            name = pyoxigraph.NamedNode(graph)
        elif self.real_default:
            name = pyoxigraph.DefaultGraph()
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
        """Every quad held: the named graphs' and the default graph's."""
        return len(self._store)

    # Writing (only while a dataset is built) ----------------------------------------------

    def add_quads(self, quads: Iterable[pyoxigraph.Quad]) -> None:
        """Add quads in one transaction."""
        self._store.extend(quads)

    def materialise_default_graph(self) -> int:
        """Make the default graph real: every triple of the named graphs, once (SPARQL's
        default graph is a set; pyoxigraph's union is a bag). Returns how many triples it has.
        """
        self._store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        self.real_default = True
        return self.default_graph_size()

    def default_graph_size(self) -> int:
        """How many triples the default graph itself holds."""
        result = self._store.query(
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", use_default_graph_as_union=False
        )
        assert isinstance(result, pyoxigraph.QuerySolutions)
        return int(next(iter(result))["n"].value)

    def mark_real_default(self) -> None:
        """Record in an on-disk store's folder that its default graph is real."""
        self.real_default = True
        if self.path is not None:
            (self.path / REAL_DEFAULT_MARK).write_text(
                "The default graph of this store is a set, materialised when it was built.\n"
            )

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


class SplitStore:
    """A dataset in two memory stores, so that its default graph is a set and as fast as it
    was as a union (docs/architecture.md, "The default-graph layout"): ``default`` holds the
    default graph alone, each triple once; ``full`` holds the named graphs (each file's) and
    the same default graph. A query that can reach a named graph (its text says ``GRAPH`` or
    ``FROM``, or its request names a protocol dataset) goes to ``full``, any other to
    ``default``: both see the same default graph, so the answer is the same either way.
    """

    def __init__(self, default: OxigraphStore, full: OxigraphStore) -> None:
        if not (default.real_default and full.real_default):
            raise ValueError("both stores of a split dataset need a real default graph")
        self.default, self.full = default, full

    @classmethod
    def of(cls, full: OxigraphStore) -> SplitStore:
        """Split a store whose default graph is real: its default graph is copied once."""
        default = OxigraphStore(real_default=True)
        default.add_quads(full.quads())
        return cls(default, full)

    def query(
        self,
        text: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        union: bool = True,
        substitutions: Mapping[str, Term] | None = None,
    ) -> QueryResult:
        """As ``OxigraphStore.query``, on the store that holds what the query can reach."""
        reaches = default_graphs is not None or named_graphs is not None or reaches_named(text)
        return (self.full if reaches else self.default).query(
            text,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            union=union,
            substitutions=substitutions,
        )

    def quads(
        self,
        subject: Subject | None = None,
        predicate: pyoxigraph.NamedNode | None = None,
        obj: Term | None = None,
        graph: str | None = None,
    ) -> Iterator[pyoxigraph.Quad]:
        """Quads matching a pattern, in one named graph or else in the default graph."""
        if graph is None:
            return self.default.quads(subject, predicate, obj)
        return self.full.quads(subject, predicate, obj, graph)

    def contains(self, quad: pyoxigraph.Quad) -> bool:
        return self.full.contains(quad)

    def graphs(self) -> list[str]:
        return self.full.graphs()

    def graph_sizes(self, graphs: Sequence[str]) -> dict[str, int]:
        return self.full.graph_sizes(graphs)

    def __iter__(self) -> Iterator[pyoxigraph.Quad]:
        return iter(self.full)

    def __len__(self) -> int:
        """Every quad of the dataset (named graphs and default graph), as ``full`` holds them."""
        return len(self.full)
