"""OpenEXR's own messages and failures, turned into one clean :class:`CanvasError`.

OpenEXR (the C++ library under the ``OpenEXR`` module) prints its complaints about a damaged file
straight to the process's C ``stdout``/``stderr`` (file descriptors 1 and 2) and may raise any Python exception type
from its binding (``RuntimeError``, ``ValueError``, ``UnicodeDecodeError`` on a garbled channel
name, ...). `openexr_guard` redirects both descriptors into a temporary file while the library
runs, and turns a failure into a ``CanvasError`` naming the file with a short summary of what the
library said. Messages of a read that succeeds go to the ``scene_import`` logger (debug), not to
the terminal.
"""

from __future__ import annotations

import contextlib
import io
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


def _flush_c_streams() -> None:
    """Flush C stdio buffers (OpenEXR's binding prints through std::cout, buffered on a pipe)."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):
        pass


@contextlib.contextmanager
def _captured() -> Iterator[list[str]]:
    """Descriptors 1 and 2 go to one temp file for the block; the list receives its text afterwards."""
    out: list[str] = []
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no descriptors (a detached daemon): nothing to capture
        yield out
        return
    # the binding also prints through Python's sys.stdout (pybind11's py::print): swap it too
    py_out, py_err, said = sys.stdout, sys.stderr, io.StringIO()
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        sys.stdout = sys.stderr = said
        try:
            yield out
        finally:
            sys.stdout, sys.stderr = py_out, py_err
            _flush_c_streams()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            tmp.seek(0)
            out.append(tmp.read(1 << 16).decode("utf-8", "replace") + said.getvalue())


def _failed(path: str, what: str, failure: BaseException, said: str) -> SceneImportError:
    summary = summarise(said)
    if isinstance(failure, CanvasError):  # our own refusal: add what the library said
        if not summary:
            return failure
        err = CanvasError(f"{failure.problem} (OpenEXR said: {summary})", failure.path)
        err.__cause__ = failure
        return err
    if isinstance(failure, SceneImportError):
        return failure
    detail = summary or f"{type(failure).__name__}: {str(failure)[:200]}"
    err = CanvasError(
        f"unreadable {what}: the file is damaged or not a complete OpenEXR file ({detail}); "
        "render or export it again",
        path,
    )
    err.__cause__ = failure
    return err


@contextlib.contextmanager
def openexr_guard(path: str, what: str = "OpenEXR file") -> Iterator[None]:
    """Run the block with OpenEXR's messages captured; a library failure becomes a CanvasError."""
    if getattr(_DEPTH, "n", 0):  # nested: the outer guard captures and converts
        yield
        return
    with _LOCK:
        _DEPTH.n = 1
        failure: BaseException | None = None
        try:
            with _captured() as said:
                try:
                    yield
                except Exception as exc:  # the binding raises many types for a damaged file
                    failure = exc
        finally:
            _DEPTH.n = 0
        text = "".join(said)
        if failure is None:
            if text.strip():
                log.debug("OpenEXR said while reading %s: %s", path, text.strip())
            return
        raise _failed(path, what, failure, text)
