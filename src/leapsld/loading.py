"""Find and parse RDF files, one named graph per file.

Parsing is pyoxigraph's (an order of magnitude faster than rdflib's), each file in one
transaction, so a broken file adds nothing. Every parse error names file, line and column.
"""

from __future__ import annotations

import hashlib
import re
import xml.parsers.expat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pyoxigraph

from .errors import LoadError
from .formats import READABLE_SUFFIXES
from .namespaces import graph_iri
from .store import OxigraphStore


@dataclass(frozen=True)
class SourceFile:
    """A file that was loaded, the named graph it went into, and every graph it filled (TriG
    and N-Quads files may also fill named graphs of their own)."""

    path: Path
    relpath: str
    graph: str
    format: pyoxigraph.RdfFormat
    graphs: tuple[str, ...] = ()
    #: Literals the store holds in another form than the file writes them (it canonicalises
    #: ``"1.50"^^xsd:decimal`` to ``"1.5"``, ``"300"^^xsd:byte`` to an xsd:integer): validation
    #: then reads the file as written (``parse_as_written``). Not recorded for reused builds.
    rewritten: int = 0
    #: What relative IRIs in the file resolved against (``base_of``).
    base: str | None = None
    #: Its triples are in the default graph of a declared dataset (``load_declared``), not in
    #: ``graph``, which then names nothing; ``graphs`` are then only its own named graphs.
    in_default: bool = False

    @property
    def all_graphs(self) -> tuple[str, ...]:
        return self.graphs if self.in_default else (self.graphs or (self.graph,))

    @property
    def is_dataset(self) -> bool:
        return self.format in (pyoxigraph.RdfFormat.TRIG, pyoxigraph.RdfFormat.N_QUADS)


def find_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into the RDF files they hold (sorted, recursively) and check files exist.

    Raises:
        LoadError: a path does not exist, or a file named directly has an unknown suffix.
    """
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in READABLE_SUFFIXES
                )
            )
        elif path.is_file():
            if path.suffix.lower() not in READABLE_SUFFIXES:
                known = " ".join(sorted(READABLE_SUFFIXES))
                raise LoadError(
                    f"cannot tell the RDF format from the suffix {path.suffix!r} (known: {known})",
                    path=str(path),
                )
            found.append(path)
        else:
            raise LoadError("no such file or folder", path=str(path))
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def relative_name(path: Path, root: Path) -> str:
    """The path as shown to people: relative to ``root`` (or else the working folder) if inside
    it, absolute otherwise.

    >>> relative_name(Path("/srv/zoo/data/x.ttl"), Path("/srv/zoo"))
    'data/x.ttl'
    """
    resolved = path.resolve()
    for folder in (root, Path.cwd()):
        try:
            return resolved.relative_to(folder.resolve()).as_posix()
        except ValueError:
            continue
    return resolved.as_posix()


def graph_key(path: Path, root: Path) -> str:
    """What names a file's graph: its path under ``root``, or its file name when outside."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def base_of(path: Path, root: Path, *, base_iri: str, relative_iris: str = "dataset") -> str:
    """What relative IRIs in a file resolve against, unless it declares ``@base`` (RFC 3986,
    Turtle §6.3): with ``relative_iris="file"`` its own ``file:`` IRI, as every RDF tool reads a
    local file; with ``"dataset"`` the dataset's base IRI plus the file's path under ``root``,
    so published data names no machine path and a version stays a function of the data.

    >>> base_of(Path("/srv/zoo/data/a b.ttl"), Path("/srv/zoo"), base_iri="https://example.org/zoo/")
    'https://example.org/zoo/data/a%20b.ttl'
    >>> base_of(Path("/srv/zoo/data/x.ttl"), Path("/srv/zoo"), base_iri="https://example.org/zoo#")
    'https://example.org/zoo/data/x.ttl'
    >>> base_of(Path("/srv/zoo/data/x.ttl"), Path("/srv"), base_iri="x:/", relative_iris="file")
    'file:///srv/zoo/data/x.ttl'
    """
    if relative_iris == "file":
        return path.resolve().as_uri()
    prefix = base_iri[:-1] + "/" if base_iri.endswith("#") else base_iri
    return prefix + quote(graph_key(path, root), safe="/")


@dataclass(frozen=True)
class RawFile:
    """A file's bytes, read once: what is hashed for the version is exactly what is parsed."""

    path: Path
    data: bytes
    #: The named graph a declared dataset puts it in (None: the default graph, or its own).
    named: str | None = None


def read_files(paths: Iterable[Path]) -> list[RawFile]:
    """Read each file once.

    Raises:
        LoadError: a file cannot be read.
    """
    raws = []
    for path in paths:
        try:
            raws.append(RawFile(path, path.read_bytes()))
        except OSError as exc:
            raise LoadError(exc.strerror or str(exc), path=str(path)) from None
    return raws


def load_files(
    paths: Iterable[Path],
    store: OxigraphStore,
    *,
    base_iri: str,
    root: Path,
    reserved: Iterable[str] = (),
    relative_iris: str = "dataset",
) -> list[SourceFile]:
    """Find, read and parse files into ``store``; see ``load_raw``."""
    return load_raw(
        read_files(find_files(paths)),
        store,
        base_iri=base_iri,
        root=root,
        reserved=reserved,
        relative_iris=relative_iris,
    )


def load_raw(
    raws: Iterable[RawFile],
    store: OxigraphStore,
    *,
    base_iri: str,
    root: Path,
    reserved: Iterable[str] = (),
    relative_iris: str = "dataset",
) -> list[SourceFile]:
    """Parse each file into ``store``, triples into the file's own named graph.

    TriG and N-Quads keep their named graphs; their default graph goes to the file's graph. No
    two files may fill the same graph, nor any file a ``reserved`` one (the inferred graph).
    Relative IRIs resolve as ``base_of`` says for ``relative_iris``.

    Raises:
        LoadError: with file, line and column of the first syntax error, or a graph clash.
    """
    loaded = []
    owner: dict[str, str] = {g: "leapsld itself (reserved)" for g in reserved}
    for raw in raws:
        rel = relative_name(raw.path, root)
        fmt = READABLE_SUFFIXES[raw.path.suffix.lower()]
        source = SourceFile(raw.path, rel, graph_iri(base_iri, graph_key(raw.path, root)), fmt)
        if source.graph in owner:
            raise LoadError(
                f"would share the named graph {source.graph} with {owner[source.graph]}; "
                "rename one of them",
                path=rel,
            )
        base = base_of(raw.path, root, base_iri=base_iri, relative_iris=relative_iris)
        graphs = _load_one(source, raw.data, store, owner, base)
        rewritten = _rewritten(raw.data, fmt, base, store, graphs)
        if _may_hold_blank_nodes(raw.data, fmt):
            key = hashlib.sha256(graph_key(raw.path, root).encode()).hexdigest()[:8]
            store.canonicalize_blank_nodes(graphs, prefix=f"b{key}")
        source = SourceFile(raw.path, rel, source.graph, fmt, graphs, rewritten, base)
        for g in graphs:
            owner[g] = rel
        loaded.append(source)
    return loaded


def load_declared(
    raws: Iterable[RawFile],
    store: OxigraphStore,
    *,
    base_iri: str,
    root: Path,
    relative_iris: str = "file",
) -> list[SourceFile]:
    """Parse a dataset as SPARQL defines it into ``store``: a file with no ``named`` graph
    into the default graph (TriG and N-Quads keep their named graphs), a file with one into
    that graph (its TriG default graph too). No two files may fill the same named graph.

    Raises:
        LoadError: with file, line and column of the first syntax error, or a graph clash.
    """
    loaded = []
    owner: dict[str, str] = {}
    for raw in raws:
        rel = relative_name(raw.path, root)
        fmt = READABLE_SUFFIXES[raw.path.suffix.lower()]
        base = base_of(raw.path, root, base_iri=base_iri, relative_iris=relative_iris)
        graph = raw.named or graph_iri(base_iri, graph_key(raw.path, root))
        staging = OxigraphStore()
        try:
            staging.load(raw.data, format=fmt, graph=raw.named, base_iri=base)
        except SyntaxError as exc:
            error = _located(exc, rel)
            if error.line is None and fmt == pyoxigraph.RdfFormat.RDF_XML:
                error = _xml_located(error, raw.data, rel)
            raise error from None
        except (OSError, ValueError) as exc:
            raise LoadError(str(exc), path=rel) from None
        named = staging.graphs()
        for name in named:
            if name in owner:
                raise LoadError(f"names the graph {name}, which belongs to {owner[name]}", path=rel)
            owner[name] = rel
        store.add_quads(staging)
        loaded.append(
            SourceFile(
                raw.path, rel, graph, fmt, tuple(named), base=base, in_default=raw.named is None
            )
        )
    return loaded


_KEPT_AS_WRITTEN = frozenset(
    {
        "http://www.w3.org/2001/XMLSchema#string",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
        "http://www.w3.org/2001/XMLSchema#anyURI",
    }
)


def _rewritten(
    data: bytes, fmt: pyoxigraph.RdfFormat, base: str, store: OxigraphStore, graphs: Sequence[str]
) -> int:
    """How many distinct literals of the file the store does not hold as written.

    The store keeps numbers, booleans and dates in a canonical form, and finds a literal by its
    value: one written in another form comes back in the form the store keeps. Only typed
    literals of other datatypes than strings are looked up, each once.
    """
    if b"^^" not in data and not re.search(rb"[0-9]|true|false", data):
        return 0
    seen: set[pyoxigraph.Literal] = set()
    missing = 0
    for quad in pyoxigraph.parse(data, format=fmt, base_iri=base):
        obj = quad.object
        if (
            not isinstance(obj, pyoxigraph.Literal)
            or obj.language
            or obj.datatype.value in _KEPT_AS_WRITTEN
            or obj in seen
        ):
            continue
        seen.add(obj)
        # the store looks the literal up by its value, and hands back the form it keeps
        held = (next(store.quads(None, None, obj, g), None) for g in graphs)
        if not any(q is not None and q.object == obj for q in held):
            missing += 1
    return missing


def parse_as_written(files: Iterable[SourceFile]) -> Iterator[pyoxigraph.Quad]:
    """The files' quads as the files write them (literals in their own lexical form and
    datatype), each file's default graph in its graph, read again from disk.

    Blank nodes are labelled canonically, the same at every reading (not as in the store,
    whose labels are made from the literals it rewrote).
    """
    for source in files:
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            raise LoadError(exc.strerror or str(exc), path=source.relpath) from None
        graph = pyoxigraph.NamedNode(source.graph)
        quads = [
            pyoxigraph.Quad(q.subject, q.predicate, q.object, graph)
            if isinstance(q.graph_name, pyoxigraph.DefaultGraph)
            else q
            for q in pyoxigraph.parse(data, format=source.format, base_iri=source.base)
        ]
        if not _may_hold_blank_nodes(data, source.format):
            yield from quads
            continue
        canonical = pyoxigraph.Dataset(quads)
        canonical.canonicalize(pyoxigraph.CanonicalizationAlgorithm.UNSTABLE)
        prefix = "w" + hashlib.sha256(source.graph.encode()).hexdigest()[:8]
        for q in canonical:
            subject = q.subject
            if isinstance(subject, pyoxigraph.BlankNode):
                subject = pyoxigraph.BlankNode(prefix + subject.value)
            obj = q.object
            if isinstance(obj, pyoxigraph.BlankNode):
                obj = pyoxigraph.BlankNode(prefix + obj.value)
            yield pyoxigraph.Quad(subject, q.predicate, obj, q.graph_name)


def _may_hold_blank_nodes(data: bytes, fmt: pyoxigraph.RdfFormat) -> bool:
    """False only when the file certainly has no blank node (most files: no work to do)."""
    if fmt in (pyoxigraph.RdfFormat.N_TRIPLES, pyoxigraph.RdfFormat.N_QUADS):
        return b"_:" in data
    if fmt in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG):
        return b"_:" in data or b"[" in data or b"(" in data
    return True  # RDF/XML and JSON-LD make blank nodes of nested descriptions


def _load_one(
    source: SourceFile, data: bytes, store: OxigraphStore, owner: dict[str, str], base: str
) -> tuple[str, ...]:
    graph = pyoxigraph.NamedNode(source.graph)
    try:
        if not source.is_dataset:
            store.load(data, format=source.format, graph=source.graph, base_iri=base)
            return (source.graph,)
        staging = OxigraphStore()
        staging.load(data, format=source.format, base_iri=base)
        named = staging.graphs()
        for name in named:
            if name in owner or name == source.graph:
                raise LoadError(
                    f"names the graph {name}, which belongs to {owner.get(name, 'this file')}",
                    path=source.relpath,
                )
        store.add_quads(_default_to(staging, graph))
        return (source.graph, *named)
    except SyntaxError as exc:
        error = _located(exc, source.relpath)
        if error.line is None and source.format == pyoxigraph.RdfFormat.RDF_XML:
            error = _xml_located(error, data, source.relpath)
        raise error from None
    except (OSError, ValueError) as exc:
        raise LoadError(str(exc), path=source.relpath) from None


def _default_to(staging: OxigraphStore, graph: pyoxigraph.NamedNode) -> Iterator[pyoxigraph.Quad]:
    for quad in staging:
        if isinstance(quad.graph_name, pyoxigraph.DefaultGraph):
            yield pyoxigraph.Quad(quad.subject, quad.predicate, quad.object, graph)
        else:
            yield quad


_POSITION = re.compile(
    r"^Parser error (?:at|between) line \d+ column \d+(?: and line \d+ column \d+)?: "
)


def _located(exc: SyntaxError, relpath: str) -> LoadError:
    """A ``LoadError`` naming where pyoxigraph found the syntax error."""
    message = _POSITION.sub("", exc.msg or str(exc))
    return LoadError(message, path=relpath, line=exc.lineno, column=exc.offset)


def _xml_located(error: LoadError, data: bytes, relpath: str) -> LoadError:
    """pyoxigraph's RDF/XML errors carry no position; expat finds well-formedness errors' one."""
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        return LoadError(error.detail, path=relpath, line=exc.lineno, column=exc.offset + 1)
    return error


@dataclass
class SourceIndex:
    """Where each subject is described: file and line, for validation reports.

    Built lazily from the file text (only when a report needs it), by finding the line where a
    subject starts a statement; this is what a person looks for when fixing the data.
    """

    files: list[SourceFile]
    _lines: dict[str, tuple[str, int]] | None = field(default=None, repr=False)

    def locate(self, iri: str) -> tuple[str, int] | None:
        """``(relative path, line)`` where ``iri`` is described as a subject: the statement
        that gives its type if there is one (that is where it is defined), else the first."""
        if self._lines is None:
            first: dict[str, tuple[str, int]] = {}
            typed: dict[str, tuple[str, int]] = {}
            for source in self.files:
                for subject, line, has_type in _subject_lines(source):
                    first.setdefault(subject, (source.relpath, line))
                    if has_type:
                        typed.setdefault(subject, (source.relpath, line))
            self._lines = {**first, **typed}
        return self._lines.get(iri)


_PREFIX_DECL = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)
_IRI_SUBJECT = re.compile(r"^<([^>\s]+)>")
_PNAME_SUBJECT = re.compile(r"^([A-Za-z][\w.-]*)?:((?:[\w\-.:%]|\\.)*[\w\-:%])?(?=[\s;,]|$)")
_ABOUT = re.compile(r'(?:rdf:about|"@id")\s*[=:]\s*"([^"]+)"')


_TYPED = re.compile(
    r"(?:^|[\s;])(?:a|rdf:type|<http://www\.w3\.org/1999/02/22-rdf-syntax-ns#type>)\s"
)


def _statement_has_type(lines: list[str], start: int) -> bool:
    """Whether the Turtle statement starting at ``lines[start]`` states an rdf:type."""
    for line in lines[start : start + 60]:
        if _TYPED.search(line):
            return True
        if line.rstrip().endswith("."):
            return False
    return False


def _subject_lines(source: SourceFile) -> Iterator[tuple[str, int, bool]]:
    try:
        text = source.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    prefixes: dict[str, str] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if source.format in (pyoxigraph.RdfFormat.RDF_XML, pyoxigraph.RdfFormat.JSON_LD):
            for match in _ABOUT.finditer(line):
                yield match.group(1), number, True
            continue
        decl = _PREFIX_DECL.match(line)
        if decl:
            prefixes[decl.group(1)] = decl.group(2)
            continue
        stripped = line.lstrip() if source.is_dataset else line
        m = _IRI_SUBJECT.match(stripped)
        if m:
            yield m.group(1), number, _statement_has_type(lines, number - 1)
            continue
        m = _PNAME_SUBJECT.match(stripped)
        if m and (m.group(1) or "") in prefixes:
            local = re.sub(r"\\(.)", r"\1", m.group(2) or "")
            yield prefixes[m.group(1) or ""] + local, number, _statement_has_type(lines, number - 1)
