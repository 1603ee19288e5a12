"""Pictures drawn from the data: the answers of the dataset's picture queries, as SVG.

A dataset names its pictures in ``views.toml`` (a title, a query, a kind); this module runs
each query on the served store and draws its answer, once per dataset version, beside the
statistics and dumps (``derived.py``): no request ever starts a layout. What a kind reads:

``network``  rows of ``?source ?sourceLabel ?target ?targetLabel`` with optional ``?role``
             (the edge's label) and ``?sourceKind`` / ``?targetKind`` (a node's colour and
             legend); laid out by Graphviz ``dot``, each node a link to its page.
``timeline`` rows of ``?item ?label`` with optional ``?start``, ``?end`` (years, dates or
             integers) and ``?group``; a missing end is drawn as an open end ("since …"),
             a missing start as an unknown one ("until …"), never as a made-up date.

Links in a picture are paths on this server (``/doc/…``), so one drawing serves every origin.
The small picture of a resource's neighbourhood (``neighbourhood``) is laid out here in a few
lines of arithmetic, with no process either.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import pyoxigraph

from .errors import LeapsError
from .identity import Picture
from .iris import local_url
from .query import QueryOutcome, run_query
from .store import Store

#: Fill colours for kinds of nodes, light enough for dark text (WCAG AA) and told apart.
PALETTE = (
    "#cfe3f7",
    "#fde2a6",
    "#cdebd6",
    "#f6d1e3",
    "#e0d4f5",
    "#fbd5bd",
    "#d6e6a8",
    "#c9ece9",
    "#f3e8b5",
    "#dcdcf7",
    "#f2c9c9",
    "#bfe0c9",
    "#e8d9c5",
    "#d5e5ef",
    "#e4e4e4",
)
#: How long Graphviz may take for one picture, and the most rows a picture draws.
LAYOUT_SECONDS = 60
MAX_ROWS = 2_000


class PictureError(LeapsError):
    """A picture could not be drawn (its query failed, or Graphviz is missing or failed)."""

    http_status = 500
    exit_code = 2


@dataclass(frozen=True)
class Drawing:
    """One picture as the home page shows it: its SVG and what its colours mean."""

    title: str
    kind: str
    svg: str
    query: str
    rows: int
    legend: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def drawings_to_json(drawings: Sequence[Drawing]) -> str:
    return json.dumps([dataclasses.asdict(d) for d in drawings], indent=1) + "\n"


def drawings_from_json(text: str) -> list[Drawing]:
    """Drawings as ``drawings_to_json`` wrote them.

    Raises:
        ValueError, KeyError, TypeError: the text is not such a record.
    """
    return [
        Drawing(
            **{
                **item,
                "legend": tuple(tuple(pair) for pair in item["legend"]),
                "notes": tuple(item["notes"]),
            }
        )
        for item in json.loads(text)
    ]


def draw_pictures(
    store: Store, pictures: Sequence[Picture], *, base: str, graphs: Sequence[str] | None = None
) -> list[Drawing]:
    """Draw every picture of a dataset (a picture of an unknown kind is skipped).

    Raises:
        PictureError: a query fails, or Graphviz is missing or fails.
    """
    drawings = []
    for index, picture in enumerate(pictures):
        kind = picture.kind or ""
        if kind not in DRAWERS:
            continue
        try:
            outcome = run_query(
                store,
                picture.query.text,
                default_graphs=list(graphs) if graphs else None,
                max_rows=MAX_ROWS,
            )
        except LeapsError as exc:
            raise PictureError(f"picture {picture.title!r}: {exc}") from None
        drawings.append(DRAWERS[kind](picture, outcome, base, f"picture-{index + 1}"))
    return drawings


# Values ------------------------------------------------------------------------------------


def _rows(outcome: QueryOutcome) -> list[dict[str, object]]:
    names = outcome.variables
    return [dict(zip(names, row, strict=True)) for row in outcome.rows]


def _text(value: object) -> str:
    return str(getattr(value, "value", "") or "") if value is not None else ""


def _href(base: str, value: object) -> str | None:
    if not isinstance(value, pyoxigraph.NamedNode):
        return None
    url = local_url("", base, value.value)
    return url if url.startswith("/") else None


_YEAR = re.compile(r"^\s*(-?\d{1,4})")


def year(value: object) -> int | None:
    """The year a literal names (``2018``, ``"2018"^^xsd:gYear``, ``2018-05-01``), else None.

    >>> year(pyoxigraph.Literal("2018-05-01")), year(pyoxigraph.Literal("soon"))
    (2018, None)
    """
    m = _YEAR.match(_text(value))
    return int(m.group(1)) if m else None


def _a(href: str | None, inner: str, title: str) -> str:
    tip = f"<title>{escape(title)}</title>"
    if href is None:
        return f"<g>{tip}{inner}</g>"
    return f'<a href="{escape(href)}">{tip}{inner}</a>'


# Network -----------------------------------------------------------------------------------


def draw_network(picture: Picture, outcome: QueryOutcome, base: str, ident: str) -> Drawing:
    """Organisations and what they take part in: ``dot`` lays the graph out, left to right."""
    nodes: dict[str, tuple[str, str, str | None]] = {}  # key -> (label, kind, href)
    edges: dict[tuple[str, str], list[str]] = {}
    for row in _rows(outcome):
        ends = []
        for side in ("source", "target"):
            term = row.get(side)
            if term is None:
                break
            key = _text(term)
            label = _text(row.get(f"{side}Label")) or key.rstrip("/").rsplit("/", 1)[-1]
            kind = _text(row.get(f"{side}Kind"))
            known = nodes.get(key)
            if known is None or (kind and not known[1]):
                nodes[key] = (label, kind, _href(base, term))
            ends.append(key)
        if len(ends) == 2:
            roles = edges.setdefault((ends[0], ends[1]), [])
            role = _text(row.get("role"))
            if role and role not in roles:
                roles.append(role)
    kinds = sorted({kind for _, kind, _ in nodes.values() if kind})
    colours = {kind: PALETTE[i % (len(PALETTE) - 1)] for i, kind in enumerate(kinds)}
    names = {key: f"n{i}" for i, key in enumerate(sorted(nodes))}
    lines = [
        "digraph picture {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.18, ranksep=0.9, '
        'fontname="sans-serif", pad=0.1];',
        '  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=12, '
        'color="#4a5a68", fontcolor="#111111", margin="0.12,0.04", height=0.3];',
        '  edge [fontname="sans-serif", fontsize=10, color="#5f6b76", fontcolor="#333333", '
        "arrowsize=0.6];",
    ]
    for key in sorted(nodes):
        label, kind, href = nodes[key]
        attrs = {
            "label": label,
            "fillcolor": colours.get(kind, PALETTE[-1]),
            "tooltip": f"{label} ({kind})" if kind else label,
            "id": f"{ident}-{names[key]}",
        }
        if href:
            attrs["URL"] = href
        lines.append(f"  {names[key]} [{_dot_attrs(attrs)}];")
    # the commonest role, when most arrows have it, goes unlabelled (the caption names it)
    counts: dict[str, int] = {}
    for roles in edges.values():
        label = ", ".join(sorted(roles))
        counts[label] = counts.get(label, 0) + 1
    common = max(counts, key=lambda k: (counts[k], k), default="")
    quiet = common if common and counts[common] * 3 >= len(edges) and len(edges) > 12 else ""
    for (source, target), roles in sorted(edges.items()):
        label = ", ".join(sorted(roles))
        attrs = {
            "label": "" if label == quiet else label,
            "tooltip": f"{nodes[source][0]}: {label} of {nodes[target][0]}",
        }
        lines.append(f"  {names[source]} -> {names[target]} [{_dot_attrs(attrs)}];")
    lines.append("}")
    svg = _dot("\n".join(lines), picture.title)
    return Drawing(
        picture.title,
        "network",
        _tidy_svg(svg, picture.title, ident),
        picture.query.name,
        len(outcome.rows),
        tuple((kind, colours[kind]) for kind in kinds),
        (f"Arrows without a label: {quiet}.",) if quiet else (),
    )


def _dot_attrs(attrs: dict[str, str]) -> str:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    return ", ".join(f"{k}={quoted(v)}" for k, v in attrs.items())


def graphviz() -> str | None:
    """Where Graphviz's ``dot`` is, or None when it is not installed."""
    return shutil.which("dot")


def _dot(source: str, title: str) -> str:
    program = graphviz()
    if program is None:
        raise PictureError(
            f"picture {title!r}: Graphviz's dot is not installed (apt-get install graphviz)"
        )
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=LAYOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PictureError(f"picture {title!r}: dot failed: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise PictureError(f"picture {title!r}: dot failed: {message}")
    return done.stdout.decode()


_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def _tidy_svg(svg: str, title: str, ident: str) -> str:
    """Graphviz's SVG made fit for inlining: no prolog, sized by its view box, xlink links as
    plain ``href`` (SVG 2), the graph's own title dropped and the picture named instead."""
    svg = _PROLOG.sub("", svg, count=1)
    m = _SIZE.search(svg)
    if m:
        width = float(m.group(1))
        svg = svg.replace(
            m.group(0),
            f'<svg class="picture" data-width="{width:.0f}" role="group" '
            f'aria-labelledby="{ident}-title"',
            1,
        )
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)
    # dot's own titles are node names (n0, n0->n1); the tooltips become the titles people see
    svg = re.sub(r"<title>[^<]*</title>\n?", "", svg)
    svg = re.sub(r'<a ([^>]*?)xlink:title="([^"]*)"([^>]*)>', r"<a \1\3><title>\2</title>", svg)
    svg = svg.replace("xlink:href=", "href=")
    svg = svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    svg = re.sub(r'(<g id="graph0" class="graph"[^>]*>)\s*<title>[^<]*</title>', r"\1", svg)
    opening = svg.index(">") + 1
    return f'{svg[:opening]}<title id="{ident}-title">{escape(title)}</title>{svg[opening:]}'


# Timeline ----------------------------------------------------------------------------------


_ROW = 24
_LABEL_WIDTH = 290
_WIDTH = 960
_AXIS = 34


def draw_timeline(picture: Picture, outcome: QueryOutcome, base: str, ident: str) -> Drawing:
    """Start-to-end bars on a year axis, one row per item, grouped; open ends drawn as open."""
    items: dict[str, dict[str, object]] = {}
    for row in _rows(outcome):
        key = _text(row.get("item"))
        if not key:
            continue
        item = items.setdefault(
            key,
            {
                "label": _text(row.get("label")) or key.rsplit("/", 1)[-1],
                "href": _href(base, row.get("item")),
                "group": _text(row.get("group")),
                "start": None,
                "end": None,
            },
        )
        for side in ("start", "end"):
            found = year(row.get(side))
            if found is not None and item[side] is None:
                item[side] = found
    dated = [i for i in items.values() if i["start"] is not None or i["end"] is not None]
    undated = len(items) - len(dated)
    years = [y for i in dated for y in (i["start"], i["end"]) if isinstance(y, int)]
    notes = []
    if undated:
        notes.append(f"{undated} item{'s' if undated != 1 else ''} without any date not drawn.")
    if not years:
        svg = (
            f'<svg class="picture" viewBox="0 0 {_WIDTH} 40" role="group" '
            f'aria-labelledby="{ident}-title"><title id="{ident}-title">{escape(picture.title)}'
            f'</title><text x="8" y="24">Nothing dated to draw.</text></svg>'
        )
        return Drawing(picture.title, "timeline", svg, picture.query.name, len(outcome.rows))
    first, last = min(years), max(years)
    last += 1  # an open end runs past the last year stated, so that it reads as open
    first -= 1
    span = max(last - first, 1)
    plot = _WIDTH - _LABEL_WIDTH - 20

    def x(y: float) -> float:
        return _LABEL_WIDTH + plot * (y - first) / span

    parts: list[str] = []
    step = max(1, math.ceil(span / 12))
    tick = first + (-first % step)
    while tick <= last:
        parts.append(
            f'<line x1="{x(tick):.1f}" y1="{_AXIS - 6}" x2="{x(tick):.1f}" y2="{{bottom}}" '
            'class="grid"/>'
            f'<text x="{x(tick):.1f}" y="{_AXIS - 10}" class="tick">{tick}</text>'
        )
        tick += step
    rows_sorted = sorted(
        dated,
        key=lambda i: (
            str(i["group"]),
            i["start"] if isinstance(i["start"], int) else -10_000,
            str(i["label"]).casefold(),
        ),
    )
    y_pos = _AXIS
    group = None
    for item in rows_sorted:
        if item["group"] != group:
            group = item["group"]
            if group:
                y_pos += 6
                parts.append(
                    f'<text x="6" y="{y_pos + 15}" class="group">{escape(str(group))}</text>'
                )
                y_pos += _ROW
        start, end = item["start"], item["end"]
        label = str(item["label"])
        top = y_pos + 5
        if isinstance(start, int) and isinstance(end, int):
            x0, x1 = x(start), x(end + 1)
            shape = f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 4):.1f}" height="14" rx="3" class="bar"/>'
            said = f"{start}\u2013{end}" if end != start else f"{start}"
        elif isinstance(start, int):
            x0, x1 = x(start), x(last)
            shape = (
                f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 4):.1f}" height="14" rx="3" '
                f'class="bar open"/><path d="M{x1:.1f},{top - 2} l8,9 l-8,9 z" class="arrow"/>'
            )
            said = f"since {start}, no end stated"
        else:
            assert isinstance(end, int)
            x0, x1 = x(first), x(end + 1)
            shape = (
                f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 4):.1f}" height="14" rx="3" '
                'class="bar unknown-start"/>'
            )
            said = f"until {end}, start not stated"
        text = f'<text x="{_LABEL_WIDTH - 8}" y="{top + 11}" class="label">{escape(_clip(label))}</text>'
        tip = f"{label}: {said}"
        href = item["href"]
        parts.append(_a(href if isinstance(href, str) else None, text + shape, tip))
        y_pos += _ROW
    bottom = y_pos + 6
    body = "".join(parts).replace("{bottom}", str(bottom))
    svg = (
        f'<svg class="picture timeline" viewBox="0 0 {_WIDTH} {bottom + 4}" role="group" '
        f'aria-labelledby="{ident}-title" data-width="{_WIDTH}">'
        f'<title id="{ident}-title">{escape(picture.title)}</title>{body}</svg>'
    )
    legend = (("start and end stated", "bar"), ("open end: no end stated", "open"))
    return Drawing(
        picture.title, "timeline", svg, picture.query.name, len(outcome.rows), legend, tuple(notes)
    )


def _clip(text: str, limit: int = 42) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


DRAWERS = {"network": draw_network, "timeline": draw_timeline}


# A resource's neighbourhood -----------------------------------------------------------------


@dataclass(frozen=True)
class Neighbour:
    """A resource linked to the one a page is about: which way, by what, and where to go."""

    label: str
    property: str
    href: str | None
    outgoing: bool = True


def neighbourhood(center: str, neighbours: Sequence[Neighbour], *, limit: int = 12) -> str:
    """A small radial picture: the resource in the middle, what it links to (and what links
    to it) around it, each a link. Laid out by arithmetic: no process, no script."""
    shown = list(neighbours[:limit])
    width, height, rx, ry = 560, 440, 205, 165
    cx, cy = width / 2, height / 2 - 10
    parts = []
    count = max(len(shown), 1)
    for i, n in enumerate(shown):
        angle = 2 * math.pi * i / count - math.pi / 2
        nx, ny = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        arrow_at = (nx, ny) if n.outgoing else (cx, cy)
        parts.append(
            f'<line x1="{cx:.0f}" y1="{cy:.0f}" x2="{nx:.0f}" y2="{ny:.0f}" class="edge"/>'
            f'<text x="{(cx + nx) / 2:.0f}" y="{(cy + ny) / 2 - 3:.0f}" class="edge-label">'
            f"{escape(_clip(n.property, 22))}{' →' if n.outgoing else ' ←'}</text>"
        )
        del arrow_at
        node = (
            f'<rect x="{nx - 70:.0f}" y="{ny - 12:.0f}" width="140" height="24" rx="6" '
            f'class="node"/><text x="{nx:.0f}" y="{ny + 4:.0f}" class="node-label">'
            f"{escape(_clip(n.label, 21))}</text>"
        )
        direction = "links to" if n.outgoing else "is linked from"
        parts.append(_a(n.href, node, f"{n.property}: {n.label} ({direction})"))
    parts.append(
        f'<rect x="{cx - 80:.0f}" y="{cy - 15:.0f}" width="160" height="30" rx="8" class="center"/>'
        f'<text x="{cx:.0f}" y="{cy + 5:.0f}" class="node-label center-label">'
        f"{escape(_clip(center, 22))}</text>"
    )
    more = len(neighbours) - len(shown)
    if more > 0:
        parts.append(
            f'<text x="{cx:.0f}" y="{height - 8}" class="edge-label">and {more} more below</text>'
        )
    return (
        f'<svg class="neighbourhood" viewBox="0 0 {width} {height}" role="group" '
        f'aria-label="{escape(center)} and what it is linked with">{"".join(parts)}</svg>'
    )
