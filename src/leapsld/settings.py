"""One frozen ``Settings`` for the CLI, the server and the export.

Defaults < ``LEAPSLD_*`` environment variables < explicit overrides (CLI flags), so a deployment
can be configured without flags and a flag always wins.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack, cast

from .errors import BadRequest

#: Set by ``leapsld serve`` for its workers: the version it built and validated, so that a
#: worker building the very same version need not validate it again.
VALIDATED_ENV = "LEAPSLD_VALIDATED_VERSION"

#: The base IRI of this repository's own dataset; another dataset sets its own.
DEFAULT_BASE_IRI = "https://w3id.org/leaps/"

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]+$")

#: The repository this package was installed from, when it is there (an editable install).
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def default_root() -> Path:
    """Where the project's own ``ontology/``, ``data/`` and ``shapes/`` live.

    The repository the package sits in (editable install), else the working directory.
    """
    if (_SOURCE_ROOT / "data").is_dir() and (_SOURCE_ROOT / "ontology").is_dir():
        return _SOURCE_ROOT
    return Path.cwd()


_T = TypeVar("_T")


def _setting(default: _T, help: str) -> _T:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Everything leapsld can be told; each field's metadata carries its help text."""

    base_iri: str = _setting(DEFAULT_BASE_IRI, "Base IRI of the dataset; its IRIs stay canonical.")
    root: Path = _setting(
        # None only until __post_init__ puts default_root() there
        cast(Path, None),
        "Project folder holding ontology/, data/ and shapes/ (default: this project).",
    )
    data: tuple[Path, ...] = _setting(
        (), "RDF files or folders to load (default: the project's ontology/ and data/)."
    )
    shapes: tuple[Path, ...] = _setting((), "SHACL files or folders (default: shapes/).")
    default_graph: tuple[Path, ...] = _setting(
        (),
        "RDF files or folders whose triples are the default graph of a dataset declared as SPARQL "
        "defines it (with 'named'; instead of 'data'): each triple once, no per-file graphs; the "
        "named graphs of TriG or N-Quads files stay named.",
    )
    named: tuple[str, ...] = _setting(
        (),
        "Named graphs of a declared dataset, each IRI=FILE (whitespace-separated in the "
        "environment): the file's triples, its TriG default graph included, in graph IRI.",
    )
    description_file: Path | None = _setting(
        None, "The dataset's description: title, licence, examples (default: <root>/dataset.ttl)."
    )
    title: str | None = _setting(None, "Title of the dataset, instead of its description's.")
    license: str | None = _setting(
        None, "IRI of the dataset's licence, instead of its description's."
    )
    infer: str = _setting("none", "Inference before validation: none, rdfs or owlrl.")
    relative_iris: str = _setting(
        "dataset",
        "What a relative IRI in a file resolves against (unless the file declares its own base): "
        "'dataset' (the base IRI plus the file's path under the root; what build and serve "
        "publish) or 'file' (the file's own file: IRI; what validate and query use).",
    )
    validate: bool = _setting(True, "Refuse to serve or build data that does not conform.")
    store: str = _setting(
        "memory",
        "Where the store lives: 'memory', a folder (on disk), or sparql+http(s)://host/path (a "
        "SPARQL engine leapsld loaded; its credentials only from LEAPSLD_REMOTE_USER and "
        "LEAPSLD_REMOTE_PASSWORD).",
    )
    memory_layout: str = _setting(
        "materialised",
        "How the memory store holds the default graph (a set, either way): 'materialised' (one "
        "store with the named graphs and the default graph; least memory) or 'split' (the "
        "default graph also alone in a second store, which the queries without GRAPH or FROM "
        "ask: faster joins, about 60% more memory).",
    )
    host: str = _setting("127.0.0.1", "Address the server listens on.")
    port: int = _setting(8000, "Port the server listens on.")
    workers: int = _setting(1, "Server worker processes.")
    threads: int = _setting(8, "Threads per worker (a slow query holds only one).")
    query_timeout: float = _setting(
        10.0, "Seconds a SPARQL query may run; then it is stopped (503 with Retry-After)."
    )
    query_slots: int = _setting(
        0,
        "SPARQL queries running at once per worker, each in its own process (0: half the threads, at most 4).",
    )
    client_slots: int = _setting(
        0,
        "SPARQL queries one client may run at once per worker (0: half the query slots, at least 1).",
    )
    query_memory: int = _setting(
        1024, "MiB of memory one SPARQL query may take; then it is stopped (503)."
    )
    max_rows: int = _setting(10_000, "Most results (rows or triples) one query returns.")
    cache_memory: int = _setting(
        256,
        "MiB of rendered documents and complete query answers one worker keeps (keys counted).",
    )
    max_query_bytes: int = _setting(
        1 << 20, "Largest query text accepted (its form-encoded body may be three times that)."
    )
    trust_proxy: bool = _setting(
        False, "Honour X-Forwarded-Proto/Host/Prefix (only behind a trusted reverse proxy)."
    )
    access_log: bool = _setting(
        True, "Log each request (client, method, path, status, milliseconds) to stderr."
    )
    watch: bool = _setting(
        False, "Reload when a file of the data, ontology, shapes or description changes."
    )
    reuse_port: bool = _setting(
        False, "Share the port with another server that asks the same (SO_REUSEPORT)."
    )
    allowed_hosts: str = _setting(
        "",
        "Hosts the server answers for, comma-separated ('.example.org' with subdomains, '*' any;"
        " default: the bound address, localhost and the base IRI's host).",
    )

    def __post_init__(self) -> None:
        if self.root is None:
            object.__setattr__(self, "root", default_root())
        if self.infer not in ("none", "rdfs", "owlrl"):
            raise BadRequest(f"infer must be none, rdfs or owlrl, not {self.infer!r}")
        if self.relative_iris not in ("dataset", "file"):
            raise BadRequest(f"relative_iris must be dataset or file, not {self.relative_iris!r}")
        if self.memory_layout not in ("materialised", "split"):
            raise BadRequest(
                f"memory_layout must be materialised or split, not {self.memory_layout!r}"
            )
        if not self.base_iri.endswith(("/", "#")):
            raise BadRequest(f"base IRI must end with '/' or '#': {self.base_iri!r}")
        for name in (
            "port",
            "workers",
            "threads",
            "max_rows",
            "max_query_bytes",
            "query_memory",
            "cache_memory",
        ):
            if getattr(self, name) < 1:
                raise BadRequest(f"{name} must be at least 1, not {getattr(self, name)}")
        for name in ("query_slots", "client_slots"):
            if getattr(self, name) < 0:
                raise BadRequest(f"{name} must be 0 (automatic) or more, not {getattr(self, name)}")
        if self.license is not None and not _ABSOLUTE_IRI.match(self.license):
            raise BadRequest(f"license must be an absolute IRI, not {self.license!r}")
        if self.query_timeout <= 0:
            raise BadRequest(f"query_timeout must be positive, not {self.query_timeout}")
        for pair in self.named:
            iri, _, path = pair.partition("=")
            if not path or not _ABSOLUTE_IRI.match(iri):
                raise BadRequest(f"a named graph is IRI=FILE with an absolute IRI, not {pair!r}")
        if self.declared and self.data:
            raise BadRequest("give either data (one graph per file) or a declared dataset")
        if self.declared and self.infer != "none":
            raise BadRequest("inference runs on a dataset of files, not on a declared dataset")

    @property
    def declared(self) -> bool:
        """Whether the dataset is declared (a default graph and named graphs) rather than made
        of files, each in its own graph."""
        return bool(self.default_graph or self.named)

    @property
    def named_graphs(self) -> list[tuple[str, Path]]:
        """The declared named graphs: (IRI, file)."""
        return [(iri, Path(path)) for iri, _, path in (p.partition("=") for p in self.named)]

    @property
    def slots(self) -> int:
        """SPARQL queries running at once per worker: ``query_slots``, or by default half the
        threads (at most 4), so that documents always keep threads of their own."""
        return self.query_slots or max(1, min(4, self.threads // 2))

    @property
    def slots_per_client(self) -> int:
        """Of ``slots``, how many one client may hold: ``client_slots``, or by default half."""
        return min(self.slots, self.client_slots or max(1, self.slots // 2))

    @property
    def data_paths(self) -> tuple[Path, ...]:
        """The files or folders to load, defaulting to the project's ontology and data (for a
        declared dataset: its default graph's, then its named graphs')."""
        if self.declared:
            return (*self.default_graph, *(path for _, path in self.named_graphs))
        return self.data or (self.root / "ontology", self.root / "data")

    @property
    def shapes_paths(self) -> tuple[Path, ...]:
        """The shapes files or folders, defaulting to the project's shapes/."""
        return self.shapes or (self.root / "shapes",)

    def replace(self, **changes: Unpack[SettingsChanges]) -> Settings:
        """A copy with some settings changed; ``None`` values are ignored (unset flags)."""
        given: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Unpack[SettingsChanges]
    ) -> Settings:
        """Defaults, then ``LEAPSLD_<NAME>`` variables, then ``overrides`` that are not None.

        >>> Settings.from_env({"LEAPSLD_PORT": "9000"}).port
        9000
        """
        environ = os.environ if environ is None else environ
        # each value has its field's type: _coerce makes it, SettingsChanges checks overrides
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f"LEAPSLD_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, f.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class SettingsChanges(TypedDict, total=False):
    """The settings as keyword arguments to ``Settings.from_env`` and ``Settings.replace``;
    ``None`` leaves a setting as it is (an unset flag). One key per ``Settings`` field."""

    base_iri: str | None
    root: Path | None
    data: tuple[Path, ...] | None
    shapes: tuple[Path, ...] | None
    default_graph: tuple[Path, ...] | None
    named: tuple[str, ...] | None
    description_file: Path | None
    title: str | None
    license: str | None
    infer: str | None
    relative_iris: str | None
    validate: bool | None
    store: str | None
    memory_layout: str | None
    host: str | None
    port: int | None
    workers: int | None
    threads: int | None
    query_timeout: float | None
    query_slots: int | None
    client_slots: int | None
    query_memory: int | None
    max_rows: int | None
    cache_memory: int | None
    max_query_bytes: int | None
    trust_proxy: bool | None
    access_log: bool | None
    watch: bool | None
    reuse_port: bool | None
    allowed_hosts: str | None


def _coerce(name: str, raw: str, default: object) -> object:
    try:
        if name in ("data", "shapes", "default_graph"):
            return tuple(Path(p) for p in raw.split(os.pathsep) if p)
        if name == "named":
            return tuple(raw.split())
        if name in ("root", "description_file"):
            return Path(raw)
        if isinstance(default, bool):
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise BadRequest(f"LEAPSLD_{name.upper()}={raw!r} is not a valid value") from None
    return raw


def documented_settings() -> dict[str, str]:
    """Each setting's name and help text, for ``--help`` and the README test."""
    return {f.name: f.metadata["help"] for f in dataclasses.fields(Settings)}
