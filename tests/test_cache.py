"""The one bounded cache: keys and values counted, oldest out first, big values not kept."""

from __future__ import annotations

import threading

from leapsld.cache import OVERHEAD, BoundedCache, key_size


def test_keys_count_against_the_bound() -> None:
    cache = BoundedCache[bytes](max_bytes=10_000, size=len, max_entry=10_000)
    for n in range(100):
        cache.put(("memo", "k" * 1_000 + str(n)), b"v")
    assert cache.bytes <= 10_000
    assert len(cache) == 10_000 // (1_000 + 2 + 4 + 1 + OVERHEAD)


def test_oldest_entries_go_first_and_large_ones_are_not_kept() -> None:
    cache = BoundedCache[bytes](max_bytes=3_000, size=len, max_entry=1_500)
    cache.put("a", b"1" * 1_000)
    cache.put("b", b"2" * 1_000)
    cache.put("c", b"3" * 1_000)
    assert cache.get("a") is None and cache.get("c") == b"3" * 1_000
    assert cache.get_or_make("big", lambda: b"4" * 2_000) == b"4" * 2_000
    assert cache.get("big") is None


def test_count_by_kind_and_key_sizes() -> None:
    cache = BoundedCache[bytes](max_bytes=100_000, size=len)
    cache.put(("memo", "x"), b"")
    cache.put(("doc", "x"), b"")
    cache.put(("doc", "y"), b"")
    assert (cache.count("memo"), cache.count("doc")) == (1, 2)
    assert key_size(("doc", "abc", None, 3)) == 3 + 3 + 8 + 8


def test_threads_never_push_it_past_its_bound() -> None:
    cache = BoundedCache[bytes](max_bytes=50_000, size=len)

    def fill(t: int) -> None:
        for n in range(2_000):
            cache.put((t, n), b"x" * 100)

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0 < cache.bytes <= 50_000
    assert cache.bytes == sum(100 + key_size(k) + OVERHEAD for k in list(cache._items))
