"""This host's cache of store objects: copies reused, bounded in size, room made before a download."""

from __future__ import annotations

import os
from pathlib import Path

from app.storage.cache import LocalCache


class FakeStore:
    """Objects of given sizes; notes which cached copies existed when each download began."""

    def __init__(self, cache_root: Path, sizes: dict[str, int]) -> None:
        self.cache_root = cache_root
        self.sizes = sizes
        self.present_at_download: list[list[str]] = []

    def local_path(self, key: str) -> Path | None:
        return None

    def size(self, key: str) -> int:
        return self.sizes[key]

    def download(self, key: str, target: Path) -> None:
        present = sorted(str(p.relative_to(self.cache_root)) for p in self.cache_root.rglob("*") if p.is_file())
        self.present_at_download.append(present)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"x" * self.sizes[key])


def test_copies_are_reused_and_the_least_recently_used_go_first(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    store = FakeStore(root, {"a/1": 400, "b/2": 400, "c/3": 400})
    cache = LocalCache(root, max_bytes=1000)
    first = cache.path(store, "a/1")
    os.utime(first, (1, 1))  # long ago
    second = cache.path(store, "b/2")
    assert cache.path(store, "a/1") == first  # a hit: no download, and now the most recently used
    assert len(store.present_at_download) == 2
    cache.path(store, "c/3")
    # Room was made before c/3 came: b/2, used least recently, was gone when its download began
    assert store.present_at_download[-1] == ["a/1"]
    assert first.exists()
    assert not second.exists()


def test_an_object_larger_than_the_cache_is_still_kept(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    store = FakeStore(root, {"a/1": 400, "big/2": 5000})
    cache = LocalCache(root, max_bytes=1000)
    cache.path(store, "a/1")
    big = cache.path(store, "big/2")
    assert big.stat().st_size == 5000
    assert store.present_at_download[-1] == []
