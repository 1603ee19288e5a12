"""Base IRI ↔ request path.

IRIs in the data stay canonical (``https://example.org/zoo/id/animal/ada``); a server answers for
them at its own origin (``http://127.0.0.1:8000/id/animal/ada``), so every link it emits is
rewritten here and nowhere else.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pyoxigraph


def iri_for_path(base_iri: str, path: str) -> str:
    """The canonical IRI that a request path stands for.

    >>> iri_for_path("https://example.org/zoo/", "/id/animal/ada")
    'https://example.org/zoo/id/animal/ada'
    """
    return base_iri + path.lstrip("/")


def path_for_iri(base_iri: str, iri: str) -> str | None:
    """The request path of a canonical IRI, or None if the IRI is not under the base.

    >>> path_for_iri("https://example.org/zoo/", "https://example.org/zoo/def#Animal")
    '/def#Animal'
    >>> path_for_iri("https://example.org/zoo/", "https://www.wikidata.org/entity/Q140") is None
    True
    """
    if not iri.startswith(base_iri):
        return None
    return "/" + iri[len(base_iri) :]


def document_path(thing_path: str) -> str:
    """The document describing a thing: ``/id/animal/ada`` → ``/doc/animal/ada``.

    >>> document_path("/id/animal/ada")
    '/doc/animal/ada'
    """
    if thing_path.startswith("/id/"):
        return "/doc/" + thing_path[len("/id/") :]
    return thing_path


def local_url(origin: str, base_iri: str, iri: str) -> str:
    """Where a browser should go for ``iri`` on this server: things go to their document page,
    other local IRIs to their path, foreign IRIs stay as they are.

    >>> local_url("http://127.0.0.1:8000", "https://example.org/zoo/", "https://example.org/zoo/id/animal/ada")
    'http://127.0.0.1:8000/doc/animal/ada'
    """
    path = path_for_iri(base_iri, iri)
    if path is None:
        return iri
    return origin.rstrip("/") + quote(document_path(path), safe="/#:@!$&'()*+,;=-._~%")


def iri_problem(iri: str) -> str | None:
    """Why ``iri`` is not an IRI (RFC 3987, as the engine reads it), or None when it is one.

    A request path can hold what no IRI may (a space, ``<``, a control character, a lone
    ``%``): such a path names nothing here, and the engine must never be asked about it.

    >>> iri_problem("https://example.org/zoo/id/animal/ada") is None
    True
    >>> iri_problem("https://example.org/zoo/id/a b")
    'U+0020 (SPACE) cannot appear in an IRI'
    """
    for char in iri:
        if char in _NEVER or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            name = unicodedata.name(char, "a control character")
            return f"U+{ord(char):04X} ({name}) cannot appear in an IRI"
    try:
        pyoxigraph.NamedNode(iri)
    except ValueError as exc:
        return str(exc)
    return None


#: Printable characters RFC 3987 allows nowhere in an IRI.
_NEVER = frozenset(' <>"{}|\\^`')
