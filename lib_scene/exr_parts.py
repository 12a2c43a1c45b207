"""One part of a multi-part OpenEXR file, cut out byte for byte (no decoding of our own).

OpenEXR's Python ``File`` decodes every part of a file; a Blender 5 render carries one part per
pass, so a command that needs only the depth pass would decode the beauty, the normals and both
index passes as well. This module reads the file's layout (OpenEXR File Layout: magic, version
field, the part headers, one offset table per part, then chunks that each begin with their part
number) and copies one part's header and its chunks into a one-part file (still flagged
multi-part), which OpenEXR then decodes: the library does every decompression, so the pixels are
the library's own.

:func:`scan` returns ``None`` for anything it does not fully understand (a single-part file, deep
data, an unknown version flag, offsets outside the file, overlapping chunks, a chunk that names
another part): the caller then reads the whole file, and OpenEXR's own checks apply.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAGIC = b"\x76\x2f\x31\x01"
_TILED = 0x200  # single-part tiled (never set on a multi-part file)
_LONG_NAMES = 0x400
_NON_IMAGE = 0x800  # deep data somewhere in the file
_MULTIPART = 0x1000
_KNOWN_FLAGS = _TILED | _LONG_NAMES | _NON_IMAGE | _MULTIPART
#: Bytes before a chunk's data: part number + y (+ size) for scan lines; part + 4 tile coords (+ size).
_PREFIX = {"scanlineimage": 8, "tiledimage": 20}
#: The most chunks a part may declare (16384² in one-line chunks, with room): more is not a render.
_MAX_CHUNKS = 1 << 22


@dataclass(frozen=True)
class PartLayout:
    """Where one part lives in the file."""

    index: int
    name: str
    storage: str  # "scanlineimage" or "tiledimage"
    header: bytes  # the part's attributes as stored, with their terminating null byte
    offsets: NDArray[np.uint64]  # its offset table: where each chunk starts


@dataclass(frozen=True)
class FileLayout:
    path: str
    size: int
    version: int
    parts: tuple[PartLayout, ...]

    def find(self, name: str) -> PartLayout | None:
        return next((p for p in self.parts if p.name == name), None)


class LayoutError(Exception):
    """The file is not laid out as this module expects (the caller reads it whole)."""


def scan(path: str) -> FileLayout | None:
    """The layout of a multi-part scan-line/tiled file, or None (single part, deep, anything odd)."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < 16:
                return None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return _scan(path, mm, size)
    except (OSError, ValueError, LayoutError, struct.error):
        return None


def _scan(path: str, mm: mmap.mmap, size: int) -> FileLayout | None:
    if mm[:4] != MAGIC:
        return None
    version = struct.unpack_from("<i", mm, 4)[0]
    flags = version & ~0xFF
    if (
        version & 0xFF != 2
        or flags & ~_KNOWN_FLAGS
        or not flags & _MULTIPART
        or flags & (_NON_IMAGE | _TILED)
    ):
        return None
    limit = 255 if flags & _LONG_NAMES else 31
    pos, heads = 8, []
    while True:
        if pos >= size:
            raise LayoutError("headers run past the end")
        if mm[pos] == 0:  # the empty header that ends the list
            pos += 1
            break
        start = pos
        attrs, pos = _attributes(mm, pos, size, limit)
        heads.append((start, pos, attrs))
    parts = []
    for k, (start, end, attrs) in enumerate(heads):
        storage = _text(attrs, "type")
        count = struct.unpack("<i", attrs.get("chunkCount", b"\xff\xff\xff\xff")[:4])[0]
        if storage not in _PREFIX or not 0 < count <= _MAX_CHUNKS:
            raise LayoutError("deep or unknown part, or no chunk count")
        if pos + 8 * count > size:
            raise LayoutError("offset table past the end")
        offsets = np.frombuffer(mm, dtype="<u8", count=count, offset=pos).astype(np.uint64)
        pos += 8 * count
        parts.append(PartLayout(k, _text(attrs, "name"), storage, bytes(mm[start:end]), offsets))
    for part in parts:
        _chunk_sizes(mm, part, size, pos)  # every part's chunks are where the tables say
    return FileLayout(path, size, version, tuple(parts))


def _attributes(mm: mmap.mmap, pos: int, size: int, limit: int) -> tuple[dict[str, bytes], int]:
    """One header's attributes (name -> value bytes) and the position after its null byte."""
    attrs: dict[str, bytes] = {}
    while True:
        if pos >= size:
            raise LayoutError("header runs past the end")
        if mm[pos] == 0:
            return attrs, pos + 1
        name, pos = _cstring(mm, pos, size, limit)
        _, pos = _cstring(mm, pos, size, limit)
        (length,) = struct.unpack_from("<i", mm, pos)
        pos += 4
        if length < 0 or pos + length > size:
            raise LayoutError("attribute past the end")
        attrs[name] = bytes(mm[pos : pos + length])
        pos += length


def _cstring(mm: mmap.mmap, pos: int, size: int, limit: int) -> tuple[str, int]:
    end = mm.find(b"\0", pos, min(size, pos + limit + 1))
    if end < 0:
        raise LayoutError("name too long or unterminated")
    return mm[pos:end].decode("latin-1"), end + 1


def _text(attrs: dict[str, bytes], key: str) -> str:
    value = attrs.get(key)
    if value is None:
        raise LayoutError(f"no {key} attribute")
    return value.decode("latin-1")


def _chunk_sizes(mm: mmap.mmap, part: PartLayout, size: int, first: int) -> NDArray[np.int64]:
    """Each chunk's whole length (prefix, size field and data), checked against the file."""
    prefix = _PREFIX[part.storage]
    offs = part.offsets
    if offs.min() < first or offs.max() > size - prefix - 4:
        raise LayoutError("chunk offset outside the file")
    start = offs.astype(np.int64)
    number, data = _int32_at(mm, start), _int32_at(mm, start + prefix)
    if (number != part.index).any() or (data < 0).any():
        raise LayoutError("a chunk of another part, or a negative size")
    length = data.astype(np.int64) + prefix + 4
    order = np.argsort(start, kind="stable")
    ends = start[order] + length[order]
    if ends[-1] > size or (ends[:-1] > start[order][1:]).any():
        raise LayoutError("chunks overlap or run past the end")
    return length


def _int32_at(mm: mmap.mmap, at: NDArray[np.int64]) -> NDArray[np.int32]:
    """The little-endian int32 at each byte position (a copy: nothing keeps the map exported)."""
    buf = np.frombuffer(mm, dtype=np.uint8)
    try:
        got: NDArray[np.int32] = buf[at[:, None] + np.arange(4)].view("<i4")[:, 0].astype(np.int32)
    finally:
        del buf
    return got


def extract(layout: FileLayout, part: PartLayout, dest: str) -> None:
    """Write ``part`` alone as a one-part multi-part file at ``dest``."""
    with open(layout.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if len(mm) != layout.size:
            raise LayoutError("the file changed since it was scanned")
        lengths = _chunk_sizes(mm, part, layout.size, 8)
        start = part.offsets.astype(np.int64)
        order = np.argsort(start, kind="stable")
        s, n = start[order], lengths[order]
        base = 8 + len(part.header) + 1 + 8 * len(start)
        new = np.empty_like(start)
        new[order] = base + np.concatenate(([0], np.cumsum(n)[:-1]))
        # runs of chunks that follow each other in the file are copied in one piece
        brk = np.flatnonzero(s[1:] != s[:-1] + n[:-1]) + 1
        run_starts = np.concatenate(([0], brk))
        run_ends = np.concatenate((brk, [len(s)]))
        with open(dest, "wb") as out:
            out.write(MAGIC + struct.pack("<i", layout.version & (0xFF | _LONG_NAMES | _MULTIPART)))
            out.write(part.header + b"\0")
            out.write(new.astype("<u8").tobytes())
            view = memoryview(mm)
            try:
                for a, b in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
                    out.write(view[int(s[a]) : int(s[b - 1] + n[b - 1])])
            finally:
                view.release()
            if part.index:  # every chunk names its part: this is part 0 now
                out.flush()
                fd = out.fileno()
                zero = b"\0\0\0\0"
                for at in new.tolist():
                    os.pwrite(fd, zero, at)


@contextlib.contextmanager
def scratch_path() -> Iterator[str]:
    """A path for a short-lived file: an anonymous in-memory file where the system has one
    (Linux), else a temporary file that is removed afterwards."""
    memfd = getattr(os, "memfd_create", None)
    if memfd is not None and os.path.isdir("/proc/self/fd"):
        try:
            fd = memfd("scene-import-exr-part")
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                yield f"/proc/self/fd/{fd}"
            finally:
                os.close(fd)
            return
    tmp = tempfile.NamedTemporaryFile(suffix=".exr", delete=False)
    tmp.close()
    try:
        yield tmp.name
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
