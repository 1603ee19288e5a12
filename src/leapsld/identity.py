"""What the published dataset is: its name, licence, publisher and examples, read from its folder.

leapsld publishes any dataset; what makes one dataset itself lives in files beside its data, and
nothing of it is written into the library:

    <root>/dataset.ttl     its description (DCTERMS, DCAT, VoID): title, licence, examples, …
    <root>/views.toml      the home page: entry-point classes and the queries pictures draw
    <root>/queries/*.rq    example queries, the first comment line of each its title
    <root>/releases/       what earlier releases published: retired IRIs, earlier ontologies
                           (``releases.py``)

Each is optional: without them a dataset is served under neutral names. The description is not
loaded into the published graphs (like the shapes, it lives apart); its statements become the
VoID description, the Service Description's title, the pages' titles and the dumps' names.
Every file read here is part of the dataset version (``digest``), since it changes what is
served.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import pyoxigraph

from .errors import LoadError
from .folder import read as read_file
from .folder import shown as shown_path
from .namespaces import PREFIXES
from .releases import Releases, read_releases
from .settings import Settings
from .store import Store

#: The files and folder of a dataset folder that say what the dataset is.
DESCRIPTION_FILE = "dataset.ttl"
VIEWS_FILE = "views.toml"
QUERIES_FOLDER = "queries"

#: What a dataset that does not describe itself is called, and how its dumps are named.
DEFAULT_TITLE = "Linked Data"
DEFAULT_STEM = "dataset"
#: The query page's example when the dataset brings no query of its own.
DEFAULT_QUERY = "SELECT * WHERE { ?s ?p ?o } LIMIT 10"

_DCT, _VOID, _DCAT, _RDF = (PREFIXES[p] for p in ("dcterms", "void", "dcat", "rdf"))
_VANN = PREFIXES["vann"]
_DATASET_TYPES = (_VOID + "Dataset", _DCAT + "Dataset")
#: What a description may say once at most, and how.
_SINGLE = {
    _DCT + "title": "literal",
    _DCT + "alternative": "literal",
    _DCT + "description": "literal",
    _DCT + "license": "iri",
    _DCT + "publisher": "iri",
    _DCT + "modified": "literal",
    _DCT + "identifier": "literal",
    _VOID + "rootResource": "iri",
}
_MULTIPLE = {_DCT + "source": "iri", _VOID + "exampleResource": "iri"}
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]+$")
_PN_PREFIX = re.compile(r"^[A-Za-z][\w.-]*$")


@dataclass(frozen=True)
class Text:
    """A literal as a page shows it (``str``) and as RDF writes it (``literal``)."""

    value: str
    language: str | None = None

    def __str__(self) -> str:
        return self.value

    def literal(self) -> pyoxigraph.Literal:
        if self.language:
            return pyoxigraph.Literal(self.value, language=self.language)
        return pyoxigraph.Literal(self.value)


@dataclass(frozen=True)
class ExampleQuery:
    """A query the dataset brings: its file name, its title and its text."""

    name: str
    title: str
    text: str


@dataclass(frozen=True)
class EntryClass:
    """A class the home page offers as a way in, with the label it shows."""

    iri: str
    label: str


@dataclass(frozen=True)
class Picture:
    """A picture of the home page: a title and the query whose answer it draws."""

    title: str
    query: ExampleQuery
    kind: str | None = None


@dataclass(frozen=True)
class Views:
    """What the home page shows besides the statistics (``views.toml``)."""

    entries: tuple[EntryClass, ...] = ()
    pictures: tuple[Picture, ...] = ()
    #: Properties whose values (concepts, with those they are narrower than) count as classes
    #: for entry points, class pages and search (``kinds = ["…org#classification"]``).
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identity:
    """What one dataset is, as its folder says (and the operator's overrides)."""

    title: Text
    #: The name in page titles and the header; ``dcterms:alternative``, else the title.
    short_title: Text
    description: Text | None = None
    license: str | None = None
    publisher: str | None = None
    sources: tuple[str, ...] = ()
    #: ``dcterms:modified`` as stated; None: the time the dataset was built.
    modified: pyoxigraph.Literal | None = None
    examples: tuple[str, ...] = ()
    root_resource: str | None = None
    #: What every dump's file name starts with (``dcterms:identifier``).
    stem: str = DEFAULT_STEM
    #: The dataset's IRI as the description names it; None: ``{base}void#dataset``.
    iri: str | None = None
    queries: tuple[ExampleQuery, ...] = ()
    views: Views | None = None
    #: What became of IRIs earlier releases published, and the earlier ontology versions.
    releases: Releases = field(default_factory=Releases)
    #: A hash of every file read and every override: part of the dataset version.
    digest: str = ""

    @property
    def example_query(self) -> str:
        """The query page's example: the first of the dataset's queries, else a neutral one."""
        return self.queries[0].text if self.queries else DEFAULT_QUERY


class _Described(TypedDict, total=False):
    """The fields of ``Identity`` a description file (or a setting) states."""

    title: Text
    short_title: Text
    description: Text | None
    license: str | None
    publisher: str | None
    sources: tuple[str, ...]
    modified: pyoxigraph.Literal | None
    examples: tuple[str, ...]
    root_resource: str | None
    stem: str
    iri: str | None


# Reading ---------------------------------------------------------------------------------


def read_identity(settings: Settings) -> Identity:
    """The identity of the dataset in ``settings.root``, with the settings' overrides.

    Raises:
        LoadError: a file is malformed or says something unusable (file and line named), or
            the description file named in the settings does not exist.
    """
    digest = hashlib.sha256()
    root = Path(settings.root)
    path = Path(settings.description_file) if settings.description_file else root / DESCRIPTION_FILE
    if path.is_file():
        data = read_file(path, root)
        digest.update(b"description\0" + data + b"\0")
        fields = _parse_description(data, path, root, settings.base_iri)
    elif settings.description_file:
        raise LoadError("no such description file", path=str(path))
    else:
        fields = _Described()
    queries = _read_queries(root / QUERIES_FOLDER, root, digest)
    views = None
    views_path = root / VIEWS_FILE
    if views_path.is_file():
        data = read_file(views_path, root)
        digest.update(b"views\0" + data + b"\0")
        views = _parse_views(data, views_path, root, queries, digest)
    releases = read_releases(root, settings.base_iri, digest)
    for name in ("title", "license"):
        value = getattr(settings, name)
        digest.update(f"{name}\0{value or ''}\0".encode())
    if settings.title:
        fields["title"] = fields["short_title"] = Text(settings.title)
    if settings.license:
        fields["license"] = settings.license
    fields.setdefault("title", Text(DEFAULT_TITLE))
    fields.setdefault("short_title", fields["title"])
    return Identity(
        queries=queries,
        views=views,
        releases=releases,
        digest=digest.hexdigest()[:16],
        **fields,
    )


# The description -----------------------------------------------------------------------------


def _parse_description(data: bytes, path: Path, root: Path, base_iri: str) -> _Described:
    """The fields of ``Identity`` a description file states.

    Relative IRIs are resolved against the base IRI, so ``<id/org/x>`` is a resource of the
    dataset wherever it is published.
    """
    shown = shown_path(path, root)
    try:
        fmt = pyoxigraph.RdfFormat.from_extension(path.suffix.lstrip(".").lower())
    except ValueError:
        fmt = None
    if fmt is None:
        raise LoadError(f"cannot tell the RDF format from the suffix {path.suffix!r}", path=shown)
    try:
        triples: list[pyoxigraph.Triple] = [
            q.triple for q in pyoxigraph.parse(data, format=fmt, base_iri=base_iri)
        ]
    except SyntaxError as exc:
        message = re.sub(r"^Parser error [^:]*: ", "", exc.msg or str(exc))
        raise LoadError(message, path=shown, line=exc.lineno, column=exc.offset) from None
    except (ValueError, OSError) as exc:
        raise LoadError(str(exc), path=shown) from None
    lines = _Lines(data.decode("utf-8", errors="replace"))

    def fail(message: str, *about: str) -> LoadError:
        return LoadError(message, path=shown, line=lines.find(*about))

    subjects = list(
        dict.fromkeys(
            t.subject
            for t in triples
            if t.predicate.value == _RDF + "type"
            and not isinstance(t.object, pyoxigraph.Triple)  # a triple term has no .value
            and t.object.value in _DATASET_TYPES
        )
    )
    if len(subjects) != 1:
        raise fail(
            "describes no dataset: give one subject the type void:Dataset or dcat:Dataset"
            if not subjects
            else f"describes {len(subjects)} datasets: one file describes one",
            *_DATASET_TYPES,
        )
    (me,) = subjects
    stated: dict[
        str,
        list[pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal | pyoxigraph.Triple],
    ] = {}
    for t in triples:
        if t.subject == me and t.predicate.value in {**_SINGLE, **_MULTIPLE}:
            stated.setdefault(t.predicate.value, []).append(t.object)
    values: dict[str, list[pyoxigraph.NamedNode | pyoxigraph.Literal]] = {}
    for predicate, found in stated.items():
        kind = _SINGLE.get(predicate) or _MULTIPLE[predicate]
        name = _short(predicate)
        if predicate in _SINGLE and len(found) > 1:
            raise fail(f"{name} is given {len(found)} times; give it once", predicate)
        for value in found:
            if (kind == "iri" and isinstance(value, pyoxigraph.NamedNode)) or (
                kind == "literal" and isinstance(value, pyoxigraph.Literal)
            ):
                values.setdefault(predicate, []).append(value)
            else:
                expected = "an IRI" if kind == "iri" else "a literal"
                raise fail(f"{name} must be {expected}, not {value}", predicate)

    def one(predicate: str) -> pyoxigraph.NamedNode | pyoxigraph.Literal | None:
        return values.get(predicate, [None])[0]

    def text(predicate: str) -> Text | None:
        value = one(predicate)
        if not isinstance(value, pyoxigraph.Literal):
            return None
        return Text(value.value, value.language)

    def iri(predicate: str) -> str | None:
        value = one(predicate)
        return value.value if value is not None else None

    modified = one(_DCT + "modified")  # a literal: checked above
    fields: _Described = {
        "description": text(_DCT + "description"),
        "license": iri(_DCT + "license"),
        "publisher": iri(_DCT + "publisher"),
        "modified": modified if isinstance(modified, pyoxigraph.Literal) else None,
        "root_resource": iri(_VOID + "rootResource"),
        "sources": tuple(v.value for v in values.get(_DCT + "source", [])),
        "examples": tuple(
            dict.fromkeys(v.value for v in values.get(_VOID + "exampleResource", []))
        ),
        "iri": me.value if isinstance(me, pyoxigraph.NamedNode) else None,
    }
    title = text(_DCT + "title")
    if title is None:
        raise fail("the dataset has no dcterms:title", *_DATASET_TYPES)
    fields["title"] = title
    fields["short_title"] = text(_DCT + "alternative") or title
    identifier = text(_DCT + "identifier")
    if identifier is not None:
        if not _STEM.match(identifier.value):
            raise fail(
                f"dcterms:identifier {identifier.value!r} names the dump files: use letters, "
                "digits, '.', '_' and '-' only",
                _DCT + "identifier",
            )
        fields["stem"] = identifier.value
    return fields


def _short(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return f"<{iri}>"


_PREFIX_DECL = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)


class _Lines:
    """Finds the line of a Turtle file where an IRI is written (in full or prefixed)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.prefixes: dict[str, str] = {}
        for line in self.lines:
            m = _PREFIX_DECL.match(line)
            if m:
                self.prefixes[m.group(1)] = m.group(2)

    def find(self, *iris: str) -> int | None:
        spellings = [f"<{iri}>" for iri in iris]
        for prefix, namespace in self.prefixes.items():
            spellings += [
                f"{prefix}:{iri[len(namespace) :]}" for iri in iris if iri.startswith(namespace)
            ]
        patterns = [re.compile(rf"(?<![\w:<]){re.escape(s)}(?![\w-])") for s in spellings]
        for number, line in enumerate(self.lines, start=1):
            if _PREFIX_DECL.match(line) or line.lstrip().startswith("#"):
                continue
            if any(p.search(line) for p in patterns):
                return number
        return None


# Example queries -----------------------------------------------------------------------------


def _read_queries(folder: Path, root: Path, digest: hashlib._Hash) -> tuple[ExampleQuery, ...]:
    if not folder.is_dir():
        return ()
    return tuple(
        _read_query(path, root, digest) for path in sorted(folder.glob("*.rq")) if path.is_file()
    )


def _read_query(path: Path, root: Path, digest: hashlib._Hash) -> ExampleQuery:
    """A query file; its title is its first line when that is a comment, else its name."""
    data = read_file(path, root)
    digest.update(f"query\0{shown_path(path, root)}\0".encode() + data + b"\0")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError("is not UTF-8", path=shown_path(path, root), line=line) from None
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    title = first.lstrip("#").strip() if first.startswith("#") else ""
    return ExampleQuery(path.name, title or path.stem, text.strip() + "\n")


# Views -------------------------------------------------------------------------------------


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_KEYS = {"entry": {"class", "label"}, "picture": {"title", "query", "kind"}}


def _parse_views(
    data: bytes,
    path: Path,
    root: Path,
    queries: tuple[ExampleQuery, ...],
    digest: hashlib._Hash,
) -> Views:
    """``views.toml``: ``[[entry]]`` tables (``class``, ``label``), ``[[picture]]`` tables
    (``title``, ``query``: a file under the dataset folder, optional ``kind``) and ``kinds``
    (a list of property IRIs whose values count as classes: see ``Views.kinds``)."""
    shown = shown_path(path, root)
    try:
        text = data.decode("utf-8")
        doc = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError("is not UTF-8", path=shown, line=line) from None
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POSITION.search(str(exc))
        message = _TOML_POSITION.sub("", str(exc))
        raise LoadError(
            message,
            path=shown,
            line=int(m.group(1)) if m else None,
            column=int(m.group(2)) if m else None,
        ) from None
    lines = text.splitlines()

    def table_line(kind: str, index: int) -> int | None:
        header = re.compile(rf"^\s*\[\[\s*{kind}\s*\]\]")
        seen = [n for n, line in enumerate(lines, start=1) if header.match(line)]
        return seen[index] if index < len(seen) else None

    unknown = sorted(set(doc) - set(_KEYS) - {"kinds"})
    if unknown:
        raise LoadError(
            f"unknown key {unknown[0]!r}: a views file has [[entry]] and [[picture]] tables "
            "and a kinds list",
            path=shown,
        )
    kinds = doc.get("kinds", [])
    if not isinstance(kinds, list) or not all(
        isinstance(k, str) and _ABSOLUTE_IRI.match(k) for k in kinds
    ):
        raise LoadError(
            'kinds must be a list of property IRIs: kinds = ["http://…"]',
            path=shown,
            line=next((n for n, x in enumerate(lines, 1) if x.lstrip().startswith("kinds")), None),
        )
    tables: dict[str, list[dict[str, object]]] = {}
    for kind in _KEYS:
        items = doc.get(kind, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise LoadError(f"{kind} must be written as [[{kind}]] tables", path=shown)
        for index, item in enumerate(items):

            def fail(message: str, kind: str = kind, index: int = index) -> LoadError:
                return LoadError(message, path=shown, line=table_line(kind, index))

            extra = sorted(set(item) - _KEYS[kind])
            if extra:
                raise fail(f"[[{kind}]] has an unknown key {extra[0]!r}")
            required = ("class", "label") if kind == "entry" else ("title", "query")
            for key in (*required, *(["kind"] if "kind" in item else [])):
                if not isinstance(item.get(key), str) or not str(item[key]).strip():
                    raise fail(f'[[{kind}]] needs {key} = "…" (a non-empty string)')
            if kind == "entry" and not _ABSOLUTE_IRI.match(str(item["class"])):
                raise fail(f"class {item['class']!r} is not an absolute IRI")
        tables[kind] = items

    by_name = {q.name: q for q in queries}
    pictures = []
    for index, item in enumerate(tables["picture"]):
        file = path.parent / str(item["query"])
        if not file.is_file():
            raise LoadError(
                f"the picture's query file {item['query']!r} does not exist",
                path=shown,
                line=table_line("picture", index),
            )
        query = (
            by_name.get(file.name)
            if file.parent.resolve() == (root / QUERIES_FOLDER).resolve()
            else None
        )
        pictures.append(
            Picture(
                str(item["title"]),
                query or _read_query(file, root, digest),
                str(item["kind"]) if "kind" in item else None,
            )
        )
    entries = tuple(EntryClass(str(i["class"]), str(i["label"])) for i in tables["entry"])
    return Views(entries, tuple(pictures), tuple(str(k) for k in kinds))


# The dataset's own vocabulary prefixes ---------------------------------------------------------


def declared_prefixes(store: Store, ontology_graphs: list[str], base_iri: str) -> dict[str, str]:
    """The prefixes the dataset's ontology declares for its namespaces
    (``vann:preferredNamespacePrefix`` and ``vann:preferredNamespaceUri``), else ``def:`` for
    ``{base}def#``, the namespace ``/def`` serves. A declaration that would rebind a
    well-known prefix (``rdf``, ``org``, …) or ``id`` is left out."""
    found: dict[str, str] = {}
    if ontology_graphs:
        result = store.query(
            f"SELECT ?prefix ?namespace WHERE {{ ?vocabulary <{_VANN}preferredNamespacePrefix> "
            f"?prefix ; <{_VANN}preferredNamespaceUri> ?namespace }} ORDER BY ?prefix ?namespace",
            default_graphs=ontology_graphs,
        )
        assert isinstance(result, pyoxigraph.QuerySolutions)  # a SELECT
        for row in result:
            prefix, namespace = row["prefix"].value, row["namespace"].value
            taken = prefix in PREFIXES or prefix == "id" or prefix in found
            if not taken and _PN_PREFIX.match(prefix) and _ABSOLUTE_IRI.match(namespace):
                found[prefix] = namespace
    return found or {"def": f"{base_iri}def#"}
