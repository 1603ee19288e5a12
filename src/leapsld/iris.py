"""Base IRI ↔ request path.

IRIs in the data stay canonical (``https://w3id.org/leaps/id/org/esrf``); a server answers for
them at its own origin (``http://127.0.0.1:8000/id/org/esrf``), so every link it emits is
rewritten here and nowhere else.
"""

from __future__ import annotations

from urllib.parse import quote


def iri_for_path(base_iri: str, path: str) -> str:
    """The canonical IRI that a request path stands for.

    >>> iri_for_path("https://w3id.org/leaps/", "/id/org/esrf")
    'https://w3id.org/leaps/id/org/esrf'
    """
    return base_iri + path.lstrip("/")


def path_for_iri(base_iri: str, iri: str) -> str | None:
    """The request path of a canonical IRI, or None if the IRI is not under the base.

    >>> path_for_iri("https://w3id.org/leaps/", "https://w3id.org/leaps/def#Beamline")
    '/def#Beamline'
    >>> path_for_iri("https://w3id.org/leaps/", "https://ror.org/01js2sh04") is None
    True
    """
    if not iri.startswith(base_iri):
        return None
    return "/" + iri[len(base_iri) :]


def document_path(thing_path: str) -> str:
    """The document describing a thing: ``/id/org/esrf`` → ``/doc/org/esrf``.

    >>> document_path("/id/org/esrf")
    '/doc/org/esrf'
    """
    if thing_path.startswith("/id/"):
        return "/doc/" + thing_path[len("/id/") :]
    return thing_path


def local_url(origin: str, base_iri: str, iri: str) -> str:
    """Where a browser should go for ``iri`` on this server: things go to their document page,
    other local IRIs to their path, foreign IRIs stay as they are.

    >>> local_url("http://127.0.0.1:8000", "https://w3id.org/leaps/", "https://w3id.org/leaps/id/org/esrf")
    'http://127.0.0.1:8000/doc/org/esrf'
    """
    path = path_for_iri(base_iri, iri)
    if path is None:
        return iri
    return origin.rstrip("/") + quote(document_path(path), safe="/#:@!$&'()*+,;=-._~%")
