"""IDX files (the MNIST format), plain or gzip-compressed, read in bounded chunks with every part checked.

An IDX file is a 4-byte magic (0, 0, dtype, ndim), ndim big-endian uint32 sizes, then the values.
The header is checked against the expected layout before any value is read, and reading stops one byte
past the size the header announces: a .gz bomb costs no more memory than a bounded, announced size, and
that extra byte makes gzip reach the end of its stream, where it checks the CRC and the length.
"""

from __future__ import annotations

import gzip
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

UNSIGNED_BYTE = 0x08
CHUNK = 1 << 20  # bytes decompressed per read
DTYPE_NAMES = {0x09: "signed bytes", 0x0B: "16-bit integers", 0x0C: "32-bit integers", 0x0D: "floats", 0x0E: "doubles"}


class IdxError(ValueError):
    """What is wrong with an IDX file, in words; the caller adds the path and how to get a good copy."""


@dataclass(frozen=True)
class IdxLayout:
    """What a file must hold: 1 to `max_count` examples of shape `item` (() for labels), values 0..`max_value`."""

    what: str  # "images", "labels": for messages
    item: tuple[int, ...]
    max_count: int
    max_value: int = 255

    def describe(self) -> str:
        return f"{'x'.join(['N', *map(str, self.item)])} {self.what}"


def read_idx(path: Path, layout: IdxLayout) -> np.ndarray:
    """The array in `path` (gzip-compressed when it ends in .gz), or IdxError saying what is wrong with it."""
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as handle:
            shape = read_header(handle, layout)
            body = read_values(handle, math.prod(shape))
    except EOFError:  # gzip's word for a truncated stream (typer would turn it into a bare "Aborted.")
        raise IdxError("truncated gzip file: it ends before gzip's end-of-stream marker") from None
    except gzip.BadGzipFile as error:  # bad magic, bad CRC, wrong length
        raise IdxError(f"corrupt gzip file ({error})") from None
    except zlib.error as error:
        raise IdxError(f"corrupt gzip data ({error})") from None
    except OSError as error:
        raise IdxError(f"cannot be read ({error.strerror or error})") from None
    array = np.frombuffer(body, dtype=np.uint8).reshape(shape)
    check_values(array, layout)
    return array


def read_exact(handle: BinaryIO, size: int) -> bytes:
    data = handle.read(size)
    if len(data) < size:
        raise IdxError(f"truncated or corrupt IDX file: it ends inside its header ({len(data)} of {size} bytes)")
    return data


def read_header(handle: BinaryIO, layout: IdxLayout) -> tuple[int, ...]:
    """The shape the header announces, refused unless it is the layout's (and within its count)."""
    magic = read_exact(handle, 4)
    if magic[:2] != b"\0\0":
        raise IdxError(f"not an IDX file: it starts with bytes {magic.hex(' ')}, not 00 00 08")
    if magic[2] != UNSIGNED_BYTE:
        kind = DTYPE_NAMES.get(magic[2], f"of unknown type 0x{magic[2]:02x}")
        raise IdxError(f"its values are {kind} (IDX type byte 0x{magic[2]:02x}), not unsigned bytes (0x08)")
    sizes = read_exact(handle, 4 * magic[3])  # at most 255 dimensions: 1020 bytes
    shape = tuple(int.from_bytes(sizes[i : i + 4], "big") for i in range(0, len(sizes), 4))
    if len(shape) != 1 + len(layout.item) or shape[1:] != layout.item:
        shown = "x".join(map(str, shape[:5])) + ("x..." if len(shape) > 5 else "")
        raise IdxError(f"its header gives {len(shape)} dimensions ({shown or 'none'}), expected {layout.describe()}")
    if not 1 <= shape[0] <= layout.max_count:
        raise IdxError(f"its header announces {shape[0]:,} {layout.what}, expected 1 to {layout.max_count:,}")
    return shape


def read_values(handle: BinaryIO, size: int) -> bytearray:
    """Exactly `size` bytes, read in chunks; refused when the file holds fewer or more."""
    body = bytearray()
    while len(body) < size:
        chunk = handle.read(min(CHUNK, size - len(body)))
        if not chunk:
            break
        body += chunk
    if len(body) < size:
        raise IdxError(f"truncated or corrupt IDX file: {len(body):,} of the {size:,} value bytes its header announces")
    if handle.read(1):
        raise IdxError(f"truncated or corrupt IDX file: longer than the {size:,} value bytes its header announces")
    return body


def check_values(array: np.ndarray, layout: IdxLayout) -> None:
    if layout.max_value < 255 and array.max() > layout.max_value:
        index = int(np.argmax(array > layout.max_value))
        raise IdxError(
            f"value {array.flat[index]} at position {index:,} is outside 0-{layout.max_value} "
            f"(expected {layout.describe()})"
        )
