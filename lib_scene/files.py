"""Output files are written whole or not at all, and never over what the user made.

Every output goes to a temp file in its own folder (``.tmp-*``) and is renamed into place; its mode
follows the umask like any file the user makes (0644 under the usual 022), not mkstemp's 0600. An
output folder that cannot be used (a file in the way, no permission) is refused with an
:class:`~lib_scene.errors.OutputError` before anything is written, and a failure part-way removes
every temp file.
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
import threading

import numpy as np
from PIL import Image

from .errors import OutputError, SceneImportError

_UMASK_LOCK = threading.Lock()


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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
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


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def png_bytes(arr: np.ndarray) -> bytes:
    """Encode an 8-bit L (H, W) or RGB (H, W, 3) array losslessly as PNG; 16-bit (H, W) as I;16."""
    a = np.ascontiguousarray(arr)
    if a.dtype == np.uint16 and a.ndim == 2:
        img = Image.frombytes("I;16", (a.shape[1], a.shape[0]), a.astype("<u2").tobytes())
    elif a.dtype == np.uint8 and a.ndim == 2:
        img = Image.fromarray(a, "L")
    elif a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3:
        img = Image.fromarray(a, "RGB")
    else:
        raise ValueError(f"cannot encode {a.dtype} array of shape {a.shape} as PNG")
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


class OutputBatch:
    """Collect the files of one job and write them all at the end, or none.

    Every file is first written to a temp file next to its destination; only when all are
    written are they renamed into place. A destination that is one of ``protect`` (the inputs)
    is refused.
    """

    def __init__(self, protect: list[str] | None = None):
        self._items: list[tuple[str, bytes]] = []
        self._protect = {os.path.realpath(p) for p in (protect or [])}

    def add(self, path: str | os.PathLike, data: bytes | str) -> str:
        path = os.fspath(path)
        if os.path.realpath(path) in self._protect:
            raise SceneImportError("refusing to overwrite an input file with an output", path)
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._items.append((path, data))
        return path

    def add_png(self, path: str | os.PathLike, arr: np.ndarray) -> str:
        return self.add(path, png_bytes(arr))

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self._items]

    def commit(self) -> list[str]:
        temps: list[tuple[str, str]] = []
        mode = file_mode()
        for folder in dict.fromkeys(os.path.dirname(os.path.abspath(p)) for p, _ in self._items):
            output_folder(folder, create=False)  # every folder checked before any is made or written
        try:
            for path, data in self._items:
                fd, tmp = _temp_beside(path, mode)
                temps.append((tmp, path))
                _write_fd(fd, data, tmp, path)
            for tmp, path in temps:
                os.replace(tmp, path)
        except BaseException:
            for tmp, _ in temps:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            raise
        return self.paths
