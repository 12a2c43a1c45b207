"""Output files are written whole or not at all, and never over what the user made."""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
from PIL import Image

from .errors import SceneImportError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """A temp file in the same folder, then an atomic rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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
        try:
            for path, data in self._items:
                folder = os.path.dirname(os.path.abspath(path))
                os.makedirs(folder, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
                temps.append((tmp, path))
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            for tmp, path in temps:
                os.replace(tmp, path)
        except BaseException:
            for tmp, _ in temps:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            raise
        return self.paths
