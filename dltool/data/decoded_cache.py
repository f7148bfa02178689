"""Decoded IDX arrays kept under the data folder (<DLTOOL_DATA>/cache/<dataset>/), so a run skips the gzip decode.

An entry is named by the sha256 of its source file's bytes, so a changed or different source never finds
another file's entry. It is two files, each written atomically, the array first:
  <sha256>.npy   the decoded uint8 array, mapped copy-on-write: writable, so torch.from_numpy does not warn,
                 and nothing is written back (batches and labels are copies anyway)
  <sha256>.json  what it was made from (format, the source's size and sha256, shape); the entry counts only
                 once this exists, so a crash between the two leaves an entry that is rebuilt, never served.
Only arrays that passed read_idx's checks are stored, and a stored one must pass them again (shape, count,
label range; cheap) with its file length exact: a damaged entry is rebuilt, never an error. A folder that
cannot be written (read-only home, disk full) is skipped with a debug log: the data is then decoded every time.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dltool.data.idx import IdxError, IdxLayout, check_values, read_idx
from dltool.files import atomic_write, atomic_write_json, read_json

FORMAT = 1  # raise when the entry layout changes: older entries are then rebuilt, never misread
HASH_CHUNK = 1 << 20
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """A source file's identity: the sha256 of its bytes (the entry's name) and its size (checked before the array)."""

    size: int
    sha256: str

    def identity(self) -> dict:
        """What an entry's metadata must say to be served for this source (the shape is checked on the array)."""
        return {"format": FORMAT, "size": self.size, "sha256": self.sha256, "dtype": "uint8"}


def identify(path: Path) -> Source | None:
    """None when the file cannot be read: read_idx then says why, in its own words."""
    digest = hashlib.sha256()
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return None
    return Source(size, digest.hexdigest())


def read_cached(path: Path, layout: IdxLayout, folder: Path | None) -> np.ndarray:
    """The array in IDX file `path`: from `folder` when it holds an entry for these exact bytes, else decoded
    by read_idx (every check; IdxError as without a cache) and stored there for the next run (None: no cache)."""
    source = identify(path) if folder is not None else None
    if source is None:
        return read_idx(path, layout)
    cached = read_entry(folder, source, layout)
    if cached is not None:
        return cached
    array = read_idx(path, layout)
    if identify(path) == source:  # the file did not change while it was decoded: the entry's name is its content
        write_entry(folder, source, array)
    return array


def read_entry(folder: Path, source: Source, layout: IdxLayout) -> np.ndarray | None:
    """The stored array for `source`, or None when there is none or it is damaged in any way."""
    metadata = read_json(folder / f"{source.sha256}.json")
    if metadata is None:
        return None
    try:
        array = map_array(folder / f"{source.sha256}.npy", metadata, source, layout)
    except (OSError, ValueError, EOFError) as error:  # IdxError is a ValueError
        log.debug("decoded cache entry %s rebuilt: %s", folder / source.sha256, error)
        return None
    return array


def map_array(path: Path, metadata: dict, source: Source, layout: IdxLayout) -> np.ndarray:
    """The entry's array, memory-mapped; ValueError saying what does not match."""
    for key, expected in source.identity().items():
        if metadata.get(key) != expected:
            raise ValueError(f"its {key} is {metadata.get(key)!r}, not {expected!r}")
    with open(path, "rb") as handle:
        np.lib.format.read_magic(handle)  # ValueError unless .npy: np.load would try zip and pickle too
    array = np.load(path, mmap_mode="c", allow_pickle=False)
    if array.dtype != np.uint8 or list(array.shape) != metadata.get("shape"):
        raise ValueError(f"it holds {array.dtype} {array.shape}, its metadata says uint8 {metadata.get('shape')}")
    if array.offset + array.nbytes != path.stat().st_size:
        raise ValueError(f"its length is not the {array.offset + array.nbytes:,} bytes its header announces")
    check_layout(array, layout)
    return array


def check_layout(array: np.ndarray, layout: IdxLayout) -> None:
    """read_idx's checks of the values (labels 0-9: 60 kB to scan; images take any byte, so are not read)."""
    if array.shape[1:] != layout.item or not 1 <= len(array) <= layout.max_count:
        raise IdxError(f"its shape {array.shape} is not {layout.describe()}")
    check_values(array, layout)


def write_entry(folder: Path, source: Source, array: np.ndarray) -> None:
    """Store `array` for `source`; a folder that cannot be written is skipped (the run decodes instead)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / f"{source.sha256}.npy", lambda handle: np.save(handle, array, allow_pickle=False))
        atomic_write_json(folder / f"{source.sha256}.json", {**source.identity(), "shape": list(array.shape)})
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in DLTOOL_DATA
        log.debug("decoded cache not written in %s: %s", folder, error)
