"""Sitemaps (sitemaps.org 0.9) for search engines: every resource's page, with its date.

A sitemap file holds 50,000 URLs at most; past that, ``/sitemap.xml`` is an index of numbered
files, each a slice of the same sorted list, so a file's content depends only on the version.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

#: The most URLs one sitemap file may list (sitemaps.org).
PER_FILE = 50_000
_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def files_needed(count: int, *, per_file: int = PER_FILE) -> int:
    """How many sitemap files ``count`` URLs need (0 when one file, not an index, holds them).

    >>> files_needed(10), files_needed(50_001)
    (0, 2)
    """
    return 0 if count <= per_file else -(-count // per_file)


def urlset(urls: Sequence[str], *, lastmod: str | None) -> bytes:
    """One sitemap file listing ``urls``, each with ``lastmod`` (a W3C date) when known."""
    when = f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else ""
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{_NS}">']
    lines += [f"<url><loc>{escape(url)}</loc>{when}</url>" for url in urls]
    lines.append("</urlset>\n")
    return "\n".join(lines).encode()


def index(urls: Sequence[str], *, lastmod: str | None) -> bytes:
    """A sitemap index naming the files at ``urls``."""
    when = f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else ""
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{_NS}">']
    lines += [f"<sitemap><loc>{escape(url)}</loc>{when}</sitemap>" for url in urls]
    lines.append("</sitemapindex>\n")
    return "\n".join(lines).encode()


def robots(origin: str) -> bytes:
    """``robots.txt``: pages welcome, query answers and searches not (each costs a query and
    none is a page of its own), and where the sitemap is."""
    return (
        "User-agent: *\n"
        "Disallow: /sparql\n"
        "Disallow: /query\n"
        "Disallow: /search\n"
        "Allow: /\n"
        f"Sitemap: {origin}/sitemap.xml\n"
    ).encode()
