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
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")
MAX_ACCEPT_LENGTH = 4096


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
    """Parse an Accept header; raises ``BadRequest`` naming the entry that is malformed.

    >>> [(r.type, r.subtype, r.q) for r in parse_accept("text/*;q=0.5, text/turtle")]
    [('text', '*', 0.5), ('text', 'turtle', 1.0)]
    """
    if len(header) > MAX_ACCEPT_LENGTH:
        raise BadRequest(f"Accept header longer than {MAX_ACCEPT_LENGTH} characters")
    ranges = []
    for position, entry in enumerate(_split(header, ","), start=1):
        if not entry.strip():
            continue
        head, *raw_params = _split(entry, ";")
        match = _MEDIA_RANGE.match(head)
        if not match:
            raise BadRequest(
                f"Accept header entry {position} ({entry.strip()!r}) is not a media range"
            )
        mtype, subtype = match.group(1).lower(), match.group(2).lower()
        if mtype == "*" and subtype != "*":
            raise BadRequest(f"Accept header entry {position} ({entry.strip()!r}): '*/{subtype}'")
        q, params = 1.0, {}
        for raw in raw_params:
            pm = _PARAM.match(raw)
            if not pm:
                raise BadRequest(f"Accept header entry {position}: bad parameter {raw.strip()!r}")
            key, value = pm.group(1).lower(), pm.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            if key == "q":
                if not _QVALUE.match(value):
                    raise BadRequest(f"Accept header entry {position}: q={value!r} is not 0..1")
                q = float(value)
            else:
                params[key] = value
        ranges.append(MediaRange(mtype, subtype, q, params))
    return ranges


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double-quoted strings."""
    parts, current, quoted, escaped = [], [], False, False
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
        match = _best_range(ranges, offer)
        if match is None or match.q <= 0:
            continue
        rank = (match.q, match.specificity(_matched_type(match, offer)), -index)
        if best is None or rank > best:
            best = rank
            chosen_offer = Negotiated(offer, dict(match.params))
    if chosen_offer is None:
        names = ", ".join(f.media_type for f in offered)
        raise NotAcceptable(
            f"none of the accepted types ({accept.strip()}) is offered; offered: {names}",
            offered=[f.media_type for f in offered],
        )
    return chosen_offer


def _matched_type(rng: MediaRange, offer: Format) -> str:
    for media_type in offer.media_types:
        if rng.specificity(media_type) >= 0:
            return media_type
    return offer.media_type


def _best_range(ranges: list[MediaRange], offer: Format) -> MediaRange | None:
    """The most specific range matching any of the offer's media types (RFC 9110 precedence)."""
    best, best_spec = None, -1
    for rng in ranges:
        for media_type in offer.media_types:
            spec = rng.specificity(media_type)
            if spec > best_spec:
                best, best_spec = rng, spec
    return best
