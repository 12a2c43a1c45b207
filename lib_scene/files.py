"""Output files are written whole or not at all, and never over what the user made.

Every output goes to a temp file in its own folder (``.tmp-*``) and is renamed into place; its mode
follows the umask like any file the user makes (0644 under the usual 022), not mkstemp's 0600. An
output folder that cannot be used (a file in the way, no permission) is refused with an
:class:`~lib_scene.errors.OutputError` before anything is written, and a failure part-way removes
every temp file. A batch is committed all or nothing (:meth:`OutputBatch.commit`): when rename k
fails, the targets already renamed are put back as they were (replaced ones from a hard-linked
backup, new ones removed), the temp files and the folders the commit made are removed, and the
error names the file.

PNGs are encoded here with numpy and zlib only (no image library): every row gets PNG filter 1
("Sub", the difference to the pixel on the left), then zlib level 1 with the run-length strategy.
Depth, test and region maps are smooth gradients and flat colours, for which this is 2-3x faster
than Pillow's encoder at level 1 and gives files of about the same size or smaller. Large images are
deflated in strips on worker threads (zlib releases the GIL), joined into one zlib stream the way
pigz does (a sync flush ends each strip; one Adler-32 over all the data). Every decoder reads the
result as a plain 8-bit (or 16-bit) grey or RGB PNG.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import tempfile
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .blocks import TableImage
from .errors import OutputError, SceneImportError

_UMASK_LOCK = threading.Lock()

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Raw bytes per deflate strip: large enough that a strip's flush costs nothing measurable.
_STRIP_BYTES = 8 << 20
#: Rows a..b of an image as bytes, (b - a, row bytes).
Rows = Callable[[int, int], NDArray[np.uint8]]
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_pools: dict[str, ThreadPoolExecutor] = {}


def _executor(kind: str = "image") -> ThreadPoolExecutor:
    """Worker threads: "image" encodes whole PNGs, "strip" deflates strips of one (separate pools,
    so an image task waiting for its strips can never hold the threads those strips need)."""
    pool = _pools.get(kind)
    if pool is None:
        pool = _pools[kind] = ThreadPoolExecutor(_WORKERS, thread_name_prefix=f"scene-import-{kind}")
    return pool


def file_mode() -> int:
    """The mode a new file gets under the process umask (0o666 & ~umask)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def output_folder(folder: str, create: bool = True) -> str:
    """Make ``folder`` (and its parents) or raise OutputError saying why it cannot be an output folder
    (``create=False``: only check that it could be made)."""
    folder = os.path.abspath(folder)
    if os.path.isdir(folder):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError("the output folder is not writable; choose another --out", folder)
        return folder
    probe = folder
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.exists(probe) and not os.path.isdir(probe):
        what = "is a file" if probe == folder else f"cannot be made: {probe} is a file, not a folder"
        raise OutputError(f"the output folder {what}; choose another --out", folder)
    if not create:
        return folder
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot make the output folder ({exc.strerror or exc}); choose another --out", folder
        ) from exc
    return folder


def _temp_beside(path: str, mode: int) -> tuple[int, str]:
    folder = output_folder(os.path.dirname(os.path.abspath(path)))
    if os.path.isdir(path):
        raise OutputError("a folder is in the way of this output file; move it or choose another --out", path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write in the output folder ({exc.strerror or exc})", folder) from exc
    os.fchmod(fd, mode)
    return fd, tmp


def _write_fd(fd: int, data: bytes, tmp: str, path: str) -> None:
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise OutputError(f"cannot write the output ({exc.strerror}); free some space", path) from exc
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """A temp file in the same folder (mode from the umask), then an atomic rename."""
    path = os.fspath(path)
    fd, tmp = _temp_beside(path, file_mode())
    try:
        _write_fd(fd, data, tmp, path)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(body, zlib.crc32(tag)))


def _sub_filtered(rows: NDArray[np.uint8], bpp: int) -> NDArray[np.uint8]:
    """PNG scanlines with filter type 1 (Sub): each byte minus the byte ``bpp`` to its left, mod 256."""
    h, n = rows.shape
    out = np.empty((h, n + 1), np.uint8)
    out[:, 0] = 1
    out[:, 1 : 1 + bpp] = rows[:, :bpp]
    np.subtract(rows[:, bpp:], rows[:, :-bpp], out=out[:, 1 + bpp :])
    return out


def _deflate(data: memoryview, level: int, last: bool) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    return c.compress(data) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _adler32_combine(a1: int, a2: int, len2: int) -> int:
    """zlib's ``adler32_combine``: the Adler-32 of two pieces from each piece's checksum."""
    base = 65521
    rem = len2 % base
    s1 = a1 & 0xFFFF
    s2 = (rem * s1) % base
    s1 += (a2 & 0xFFFF) + base - 1
    s2 += (a1 >> 16) + (a2 >> 16) + base - rem
    return ((s2 % base) << 16) | (s1 % base)


def _strip(rows: Rows, a: int, b: int, bpp: int, level: int, last: bool) -> tuple[bytes, int, int]:
    """Rows a..b filtered and deflated: (the deflated bytes, their Adler-32, the filtered length)."""
    scan = _sub_filtered(rows(a, b), bpp)
    data = memoryview(scan.reshape(-1).data)
    return _deflate(data, level, last), zlib.adler32(data), len(data)


def _zlib_stream(rows: Rows, h: int, row_bytes: int, bpp: int, level: int) -> bytes:
    """One zlib stream of the ``h`` rows (``rows(a, b)``: rows a..b as (b - a, row_bytes) bytes)
    filtered (:func:`_sub_filtered`), looked up, filtered and deflated in strips of whole rows on
    the worker threads: no canvas-sized copy is made (at 8192² fresh memory costs page faults that
    made big images slower per pixel than small ones)."""
    per = max(1, _STRIP_BYTES // (row_bytes + 1))
    starts = list(range(0, h, per))
    last = len(starts) - 1

    def one(k: int) -> tuple[bytes, int, int]:
        return _strip(rows, starts[k], min(h, starts[k] + per), bpp, level, k == last)

    pieces = [one(0)] if last == 0 else list(_executor("strip").map(one, range(len(starts))))
    adler = pieces[0][1]
    for _, a2, n2 in pieces[1:]:
        adler = _adler32_combine(adler, a2, n2)
    return b"\x78\x01" + b"".join(p[0] for p in pieces) + struct.pack(">I", adler)


def _png_layout(a: NDArray[Any] | TableImage) -> tuple[int, int, int]:
    """(bit depth, PNG colour type, bytes a pixel) of an image png_bytes can encode."""
    if a.dtype == np.uint16 and a.ndim == 2:
        return 16, 0, 2
    if a.dtype == np.uint8 and a.ndim == 2:
        return 8, 0, 1
    if a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3:
        return 8, 2, 3
    raise ValueError(f"cannot encode {a.dtype} array of shape {a.shape} as PNG")


def _row_slicer(a: NDArray[Any]) -> Callable[[int, int], NDArray[Any]]:
    return lambda r0, r1: a[r0:r1]


def png_bytes(arr: NDArray[np.generic] | TableImage, level: int = 1) -> bytes:
    """Encode an 8-bit L (H, W) or RGB (H, W, 3) image losslessly as PNG; 16-bit (H, W) as grey
    16. A :class:`lib_scene.blocks.TableImage` is looked up a strip of rows at a time."""
    a = arr if isinstance(arr, TableImage) else np.asarray(arr)
    depth, colour, bpp = _png_layout(a)
    h, w = a.shape[:2]
    if h < 1 or w < 1:
        raise ValueError(f"cannot encode an empty {w}x{h} image as PNG")
    get: Callable[[int, int], NDArray[Any]] = a.rows if isinstance(a, TableImage) else _row_slicer(a)

    def rows(r0: int, r1: int) -> NDArray[np.uint8]:
        blk = get(r0, r1)
        blk = blk.astype(">u2") if bpp == 2 else np.ascontiguousarray(blk, dtype=np.uint8)
        out: NDArray[np.uint8] = blk.view(np.uint8).reshape(r1 - r0, -1)
        return out

    idat = _zlib_stream(rows, h, w * bpp, bpp, level)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    return _PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


class OutputBatch:
    """Collect the files of one job and write them all at the end, or none.

    PNGs are encoded on worker threads as they are added (several outputs at once: zlib releases
    the GIL); :meth:`commit` waits for them. Every file is first written to a temp file next to its
    destination; only when all are written are they renamed into place. A destination that is one
    of ``protect`` (the inputs) is refused.
    """

    def __init__(self, protect: list[str] | None = None):
        self._items: list[tuple[str, bytes | Future[bytes]]] = []
        self._protect = {os.path.realpath(p) for p in (protect or [])}

    def _check(self, path: str | os.PathLike[str]) -> str:
        path = os.fspath(path)
        if os.path.realpath(path) in self._protect:
            raise SceneImportError("refusing to overwrite an input file with an output", path)
        return path

    def add(self, path: str | os.PathLike[str], data: bytes | str) -> str:
        path = self._check(path)
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._items.append((path, data))
        return path

    def add_png(self, path: str | os.PathLike[str], arr: NDArray[np.generic] | TableImage) -> str:
        """Queue ``arr`` (not modified afterwards by the caller) to be encoded as PNG at ``path``."""
        path = self._check(path)
        self._items.append((path, _executor().submit(png_bytes, arr)))
        return path

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self._items]

    def _encoded(self) -> list[tuple[str, bytes]]:
        return [(p, d if isinstance(d, bytes) else d.result()) for p, d in self._items]

    def commit(self) -> list[str]:
        """Write every file, all or nothing: each to a temp file beside it, then the renames. A
        failure at any point (a write, or rename k) undoes everything: the targets already replaced
        get their old content back, the new ones are removed, every temp file and every folder this
        commit made is removed, and an :class:`OutputError` names the file that failed."""
        items = self._encoded()
        made = _missing_folders(os.path.dirname(os.path.abspath(p)) for p, _ in self._items)
        for folder in dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p, _ in self._items):
            output_folder(folder, create=False)  # every folder checked before any is made or written
        temps: list[tuple[str, str]] = []
        try:
            mode = file_mode()
            for path, data in items:
                fd, tmp = _temp_beside(path, mode)
                temps.append((tmp, path))
                _write_fd(fd, data, tmp, path)
            _rename_all(temps)
        except BaseException as exc:
            for tmp, _ in temps:
                _unlink(tmp)
            _remove_folders(made)
            if isinstance(exc, OSError):
                where = exc.filename if isinstance(exc.filename, str) else (temps[-1][1] if temps else None)
                raise OutputError(
                    f"cannot write the output ({exc.strerror or exc}); nothing was written", where
                ) from exc
            raise
        return self.paths


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _missing_folders(folders: Iterable[str]) -> list[str]:
    """The folders (and their missing parents) that do not exist yet, deepest first."""
    missing: set[str] = set()
    for folder in folders:
        probe = folder
        while not os.path.exists(probe) and os.path.dirname(probe) != probe:
            missing.add(probe)
            probe = os.path.dirname(probe)
    return sorted(missing, key=lambda f: -f.count(os.sep))


def _remove_folders(folders: list[str]) -> None:
    """Remove the folders a failed commit made (deepest first; only when empty)."""
    for folder in folders:
        try:
            os.rmdir(folder)
        except OSError:
            pass


def _backup(path: str) -> str | None:
    """A second name for the file at ``path`` (a hard link beside it, or a copy where links are not
    supported) so that its content can be put back; None when there is no file there."""
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    backup = os.path.join(os.path.dirname(path), f".bak-{uuid.uuid4().hex}")
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _rename_all(temps: list[tuple[str, str]]) -> None:
    """Rename every temp file over its target; on a failure put back what was renamed (in reverse
    order, so a target named twice gets its first content back) and raise an OSError naming the
    target that failed. The backups of replaced targets are removed once all are renamed."""
    done: list[tuple[str, str | None]] = []  # (target, its backup; None: it was new)
    try:
        for tmp, path in temps:
            backup = _backup(path)
            try:
                os.replace(tmp, path)
            except OSError as exc:
                if backup is not None:
                    _unlink(backup)
                raise OSError(exc.errno, exc.strerror, path) from exc
            done.append((path, backup))
    except BaseException:
        for path, backup in reversed(done):
            if backup is None:
                _unlink(path)
            else:
                os.replace(backup, path)
        raise
    for _, backup in done:
        if backup is not None:
            _unlink(backup)
