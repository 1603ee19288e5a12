"""One byte-bounded cache for everything rendered from a dataset version.

Documents, pages and whole responses depend only on the version and on a few request inputs, so
they are kept once made. Keys come partly from requests (paths, Accept, Host), so a key's bytes
count against the bound as much as its value's: a flood of unique requests evicts old entries
instead of growing the process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: The default bound of a server's cache, keys and values together.
DEFAULT_BYTES = 256 << 20
#: Bytes counted for an entry beyond its key and value (the dict slot, the tuple, the object).
OVERHEAD = 200


def key_size(key: Hashable) -> int:
    """What a key costs, roughly: the length of its parts' text.

    >>> key_size(("doc", "/doc/org/esrf", None))
    24
    """
    if isinstance(key, tuple):
        return sum(key_size(part) for part in key)
    if isinstance(key, bytes | str):
        return len(key)
    return 8


class BoundedCache(Generic[V]):
    """A thread-safe map that drops its oldest entries past ``max_bytes``.

    Reads take no lock (a dict lookup is atomic), which keeps the hot path of a server answering
    tens of thousands of requests a second free of contention; eviction is oldest-first.

    >>> cache = BoundedCache[bytes](max_bytes=2000, size=len, max_entry=1000)
    >>> len(cache.get_or_make("a", lambda: b"x" * 600)), len(cache.get_or_make("b", lambda: b"y" * 600))
    (600, 600)
    >>> cache.put("c", b"z" * 600); cache.get("a") is None, len(cache), cache.bytes <= 2000
    (True, 2, True)
    """

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_BYTES,
        size: Callable[[V], int],
        max_entry: int | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        #: The largest entry kept; larger ones are made and returned but not remembered.
        self.max_entry = max_entry if max_entry is not None else max_bytes // 16
        self._size_of = size
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        hit = self._items.get(key)
        return None if hit is None else hit[0]

    def put(self, key: Hashable, value: V) -> None:
        cost = key_size(key) + self._size_of(value) + OVERHEAD
        if cost > self.max_entry:
            return
        with self._lock:
            if key in self._items:
                return
            while self._items and self._bytes + cost > self.max_bytes:
                _, (_, freed) = self._items.popitem(last=False)
                self._bytes -= freed
            self._items[key] = (value, cost)
            self._bytes += cost

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The cached value, or ``make()``'s, remembered (two threads may both make it once)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def count(self, kind: Hashable) -> int:
        """How many entries have keys starting with ``kind`` (callers sharing one cache tag
        their keys with what they are: ``("memo", …)``, ``("doc", …)``)."""
        return sum(1 for key in list(self._items) if isinstance(key, tuple) and key[0] == kind)

    @property
    def bytes(self) -> int:
        """What the entries cost now, keys included."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
