"""Content negotiation as one pure function.

Rules, in order: an explicit suffix or format name wins; otherwise the Accept header is read per
RFC 9110 §12.5.1 (q-values, ``type/*``, ``*/*``, parameters). Among offers the highest q wins;
at equal q an offer named explicitly beats one matched by a wildcard, and then the server's own
order decides (so a client listing eight types at q=1 gets Turtle, not whatever it named first).
No Accept header gives the default; nothing acceptable is a 406 naming what is offered; a header
that cannot be parsed is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import BadRequest, NotAcceptable
from .formats import Format, by_suffix

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_RANGE = re.compile(rf"^\s*({_TOKEN})/({_TOKEN})\s*$")
_PARAM = re.compile(rf'^\s*({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")\s*$')
_QVALUE = re.compile(r"^(?:0?\.\d{1,3}|0|1(?:\.0{0,3})?)$")
#: Parameters that do not narrow what a range matches here (every offer is UTF-8 where text,
#: and the JSON-LD offer can produce any profile).
_NEUTRAL_PARAMS = {"charset", "profile"}
MAX_ACCEPT_LENGTH = 4096
#: Most media ranges one Accept header may list (browsers send about six).
MAX_MEDIA_RANGES = 64


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    q: float = 1.0
    params: dict[str, str] = field(default_factory=dict)

    def specificity(self, media_type: str) -> int:
        """How precisely this range names ``media_type``: 2 exact, 1 ``type/*``, 0 ``*/*``, -1 no."""
        t, _, s = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type == t and self.subtype == "*":
            return 1
        if self.type == t and self.subtype == s:
            return 2
        return -1


@dataclass(frozen=True)
class Negotiated:
    """The chosen format and the parameters the client gave with it (e.g. a JSON-LD profile)."""

    format: Format
    params: dict[str, str] = field(default_factory=dict)


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an Accept header, skipping entries that cannot be read.

    Clients in the wild send entries such as ``*; q=.2`` (Java's default); RFC 9110 §12.5.1
    lets a server disregard what it cannot read, so such entries are skipped. A header with no
    readable entry at all is a ``BadRequest`` naming the first bad one.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/*;q=0.5, text/turtle, *; q=.2")]
    [('text', '*', 0.5), ('text', 'turtle', 1.0)]
    """
    if len(header) > MAX_ACCEPT_LENGTH:
        raise BadRequest(f"Accept header longer than {MAX_ACCEPT_LENGTH} characters")
    entries = _split(header, ",")
    if len(entries) > MAX_MEDIA_RANGES:
        raise BadRequest(
            f"Accept header lists {len(entries)} media ranges; at most {MAX_MEDIA_RANGES}"
        )
    ranges: list[MediaRange] = []
    problems: list[str] = []
    for position, entry in enumerate(entries, start=1):
        if not entry.strip():
            continue
        try:
            ranges.append(_parse_range(entry))
        except ValueError as exc:
            problems.append(f"Accept header entry {position} ({entry.strip()!r}): {exc}")
    if problems and not ranges:
        raise BadRequest(problems[0])
    return ranges


def _parse_range(entry: str) -> MediaRange:
    head, *raw_params = _split(entry, ";")
    match = _MEDIA_RANGE.match(head)
    if not match:
        raise ValueError("not a media range")
    mtype, subtype = match.group(1).lower(), match.group(2).lower()
    if mtype == "*" and subtype != "*":
        raise ValueError(f"'*/{subtype}' is not a media range")
    q, params = 1.0, {}
    for raw in raw_params:
        pm = _PARAM.match(raw)
        if not pm:
            raise ValueError(f"bad parameter {raw.strip()!r}")
        key, value = pm.group(1).lower(), pm.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if key == "q":
            if not _QVALUE.match(value):
                raise ValueError(f"q={value!r} is not a number from 0 to 1")
            q = float(value)
        else:
            params[key] = value
    return MediaRange(mtype, subtype, q, params)


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double-quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def negotiate(
    accept: str | None,
    *,
    offered: Sequence[Format],
    default: Format | None = None,
    suffix: str | None = None,
) -> Negotiated:
    """Choose one of ``offered`` for a request.

    Args:
        accept: the Accept header, or None when the request had none.
        offered: the formats this endpoint can produce, in the server's order of preference.
        default: the answer when there is no Accept header (defaults to ``offered[0]``).
        suffix: a file suffix (``.ttl``) or format name from the URL, which wins over Accept.

    Returns:
        The chosen format with the client's parameters for it.

    Raises:
        NotAcceptable: nothing offered is acceptable, or the suffix names a format not offered.
        BadRequest: the Accept header is malformed.

    >>> from leapsld.formats import of_kind
    >>> negotiate("application/ld+json;q=0.9, text/*", offered=of_kind("graph")).format.name
    'turtle'
    """
    default = default or offered[0]
    if suffix:
        chosen = by_suffix(suffix)
        if chosen is None or chosen not in offered:
            raise NotAcceptable(
                f"{suffix!r} is not offered here", offered=[f.media_type for f in offered]
            )
        return Negotiated(chosen)
    if accept is None or not accept.strip():
        return Negotiated(default)
    ranges = parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen_offer: Negotiated | None = None
    for index, offer in enumerate(offered):
        q, specificity, params = _quality(ranges, offer)
        if q <= 0:
            continue
        rank = (q, specificity, -index)
        if best is None or rank > best:
            best = rank
            chosen_offer = Negotiated(offer, params)
    if chosen_offer is None:
        names = ", ".join(f.media_type for f in offered)
        raise NotAcceptable(
            f"none of the accepted types ({accept.strip()}) is offered; offered: {names}",
            offered=[f.media_type for f in offered],
        )
    return chosen_offer


def _quality(ranges: list[MediaRange], offer: Format) -> tuple[float, int, dict[str, str]]:
    """The q an offer gets (RFC 9110 §12.5.1): from the most specific ranges that apply to it.

    A range whose parameters the offer does not have does not apply; among equally specific
    ranges the highest q counts, and a profile comes from an applicable range that allows it.
    """
    applicable: list[tuple[int, MediaRange]] = []
    for rng in ranges:
        if set(rng.params) - _NEUTRAL_PARAMS:
            continue
        spec = max(rng.specificity(m) for m in offer.media_types)
        if spec >= 0:
            applicable.append((spec, rng))
    if not applicable:
        return 0.0, -1, {}
    top = max(spec for spec, _ in applicable)
    best = [rng for spec, rng in applicable if spec == top]
    q = max(rng.q for rng in best)
    profiled = [rng for rng in best if rng.q > 0 and "profile" in rng.params]
    params = {"profile": max(profiled, key=lambda r: r.q).params["profile"]} if profiled else {}
    return q, top, params


def accepts_encoding(header: str | None, coding: str) -> bool:
    """Whether an Accept-Encoding header accepts ``coding`` (RFC 9110 §12.5.3), read in
    linear time; a header longer than ``MAX_ACCEPT_LENGTH`` is disregarded (the identity
    coding is always acceptable, so nothing is refused).

    >>> accepts_encoding("gzip, deflate;q=0.5", "gzip"), accepts_encoding("*;q=0", "gzip")
    (True, False)
    """
    if not header or len(header) > MAX_ACCEPT_LENGTH:
        return False
    named: float | None = None
    anything: float | None = None
    for entry in header.split(",")[:MAX_MEDIA_RANGES]:
        name, *params = (part.strip() for part in entry.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                q = float(value) if _QVALUE.match(value.strip()) else 0.0
        name = name.lower()
        if name == coding:
            named = q if named is None else max(named, q)
        elif name == "*":
            anything = q if anything is None else max(anything, q)
    chosen = named if named is not None else anything
    return chosen is not None and chosen > 0
