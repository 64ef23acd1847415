"""What the toolkit's C-simulation compile cache holds, and clearing it (``codesign cache``).

The cache (:func:`codesign.export._csim.default_cache_dir`, or ``--cache-dir``) holds only what the
toolkit built: ``lib-<key>/`` compiled C models, ``pch-<key>/`` precompiled headers and ``.staging-*``
folders of builds in progress. Builds evict the least recently used libraries beyond
:data:`~codesign.export._csim.MAX_LIBRARIES` by themselves; clearing frees the space at once. Only those
three kinds of entry are ever removed, so a ``--cache-dir`` pointed at a folder with other files in it
loses nothing else, and staging folders of builds still running are left alone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from codesign.export._csim import default_cache_dir, remove_stale_staging

__all__ = ["CacheUsage", "cache_usage", "clear_cache"]

_ENTRY_PREFIXES = ("lib-", "pch-")


@dataclass(frozen=True)
class CacheUsage:
    """The toolkit's entries in a cache folder: compiled C models, precompiled headers, bytes on disk."""

    path: Path
    libraries: int
    headers: int
    bytes: int


def _entries(cache: Path) -> list[Path]:
    if not cache.is_dir():
        return []
    owned = (p for p in cache.iterdir() if p.name.startswith(_ENTRY_PREFIXES))
    return sorted(p for p in owned if p.is_dir() and not p.is_symlink())


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def cache_usage(cache_dir: str | Path | None = None) -> CacheUsage:
    """What the cache at ``cache_dir`` (default: the toolkit's cache) holds; an absent folder holds nothing."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    entries = _entries(cache)
    libraries = sum(p.name.startswith("lib-") for p in entries)
    return CacheUsage(cache, libraries, len(entries) - libraries, sum(_size(p) for p in entries))


def clear_cache(cache_dir: str | Path | None = None) -> CacheUsage:
    """Remove the cache's compiled C models, precompiled headers and stale staging folders; returns what
    was removed. Anything else in the folder is kept (the next export or verify rebuilds what it needs)."""
    before = cache_usage(cache_dir)
    for entry in _entries(before.path):
        shutil.rmtree(entry, ignore_errors=True)
    if before.path.is_dir():
        remove_stale_staging(before.path)
    return before
