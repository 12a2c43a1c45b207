"""OpenEXR's own messages and failures, turned into one clean :class:`CanvasError`.

OpenEXR (the C++ library under the ``OpenEXR`` module) prints its complaints about a damaged file
straight to the process's C ``stderr`` (file descriptor 2) and may raise any Python exception type
from its binding (``RuntimeError``, ``ValueError``, ``UnicodeDecodeError`` on a garbled channel
name, ...). :func:`openexr_guard` redirects descriptor 2 into a temporary file while the library
runs, and turns a failure into a ``CanvasError`` naming the file with a short summary of what the
library said. Messages of a read that succeeds go to the ``scene_import`` logger (debug), not to
the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

from .errors import CanvasError, SceneImportError

__all__ = ["openexr_guard", "summarise"]

_LOCK = threading.RLock()
_DEPTH = threading.local()
log = logging.getLogger("scene_import")


def summarise(text: str, limit: int = 2) -> str:
    """The first ``limit`` distinct non-empty lines of ``text`` and how many more there were."""
    lines = list(dict.fromkeys(ln.strip() for ln in text.splitlines() if ln.strip()))
    if not lines:
        return ""
    head = "; ".join(ln[:200] for ln in lines[:limit])
    more = len(lines) - limit
    return head + (f" (and {more} more OpenEXR messages)" if more > 0 else "")


@contextlib.contextmanager
def _fd2_captured() -> Iterator[list[str]]:
    """Descriptor 2 goes to a temp file for the block; the list receives its text afterwards."""
    out: list[str] = []
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached daemon): nothing to capture
        yield out
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read(1 << 16).decode("utf-8", "replace"))


@contextlib.contextmanager
def openexr_guard(path: str, what: str = "OpenEXR file") -> Iterator[None]:
    """Run the block with OpenEXR's messages captured; a library failure becomes a CanvasError."""
    depth = getattr(_DEPTH, "n", 0)
    if depth:  # nested: the outer guard captures and converts
        yield
        return
    with _LOCK:
        _DEPTH.n = 1
        failure: BaseException | None = None
        try:
            with _fd2_captured() as said:
                try:
                    yield
                except SceneImportError:
                    raise
                except MemoryError as exc:
                    failure = exc
                except Exception as exc:  # the binding raises many types for a damaged file
                    failure = exc
        finally:
            _DEPTH.n = 0
        text = "".join(said)
        if failure is None:
            if text.strip():
                log.debug("OpenEXR said while reading %s: %s", path, text.strip())
            return
        detail = summarise(text) or f"{type(failure).__name__}: {str(failure)[:200]}"
        raise CanvasError(
            f"unreadable {what}: the file is damaged or not a complete OpenEXR file ({detail}); "
            "render or export it again",
            path,
        ) from failure
