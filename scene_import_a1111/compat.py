"""The few places where gradio 3.41 (A1111 1.10) and gradio 4.x (Forge, 4.40) differ, in one spot.

* event listeners take ``_js=`` on 3.x and ``js=`` on 4.x;
* ``gr.File`` hands 3.x tempfile wrappers (``.name``) and 4.x plain path strings;
* ``gr.Image`` sends lossy webp on 4.x unless told ``format="png"``;
* ``gr.Dataframe`` lost ``max_rows`` / ``overflow_row_behaviour`` in 4.x;
* ``gr.Warning`` / ``gr.Info`` raise outside an event on some versions: :func:`warn` never raises;
* 3.x encodes a numpy output image with Pillow's default PNG settings (~26 ms per 1024 px RGB
  here) but sends a file path's bytes as they are: :func:`png_image` hands it a file written by
  our fast encoder (``lib_scene.files.png_bytes``; same pixels, lossless).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections import deque

import gradio as gr

GRADIO_VERSION = getattr(gr, "__version__", "0")
GRADIO_MAJOR = int(GRADIO_VERSION.split(".")[0] or 0)
IS_GRADIO_4 = GRADIO_MAJOR >= 4


def on(event, fn, inputs=None, outputs=None, js: str | None = None, **kw):
    """``component.click(...)`` etc. with client-side JS under the right keyword."""
    if js is not None:
        kw["js" if IS_GRADIO_4 else "_js"] = js
    return event(
        fn=fn,
        inputs=inputs if inputs is not None else [],
        outputs=outputs if outputs is not None else [],
        **kw,
    )


def file_paths(value) -> list[str]:
    """Local paths of a ``gr.File`` value (one file or a list; wrappers or strings)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    out: list[str | None] = []
    for v in items:
        if v is None:
            continue
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):  # some versions pass {"name": path, ...}
            out.append(v.get("path") or v.get("name"))
        else:
            out.append(getattr(v, "path", None) or getattr(v, "name", None))
    return [str(p) for p in out if p]


def dataframe(**kw):
    """``gr.Dataframe`` without the 3.x-only arguments on 4.x."""
    if IS_GRADIO_4:
        kw.pop("max_rows", None)
        kw.pop("overflow_row_behaviour", None)
    return gr.Dataframe(**kw)


def image(**kw):
    """An output image that shows a numpy array; no upload, no share/download clutter on 4.x."""
    kw.setdefault("type", "numpy")
    kw.setdefault("interactive", False)
    if IS_GRADIO_4:
        kw.setdefault("show_share_button", False)
        kw.setdefault("format", "png")  # 4.x defaults to lossy webp: depth levels must stay exact
    return gr.Image(**kw)


_PREVIEW_DIR: list[str] = []
_PREVIEW_FILES: deque[str] = deque()
_PREVIEW_SERIAL = itertools.count()
#: Preview files kept on disk (gradio 3 reads each one while answering the event that made it).
KEEP_PREVIEWS = 64


def png_image(arr):
    """An output value for :func:`image`: on gradio 3.x the path of a PNG written by our encoder
    (gradio base64s the file as it is), else the array itself (4.x saves it to its cache)."""
    if arr is None or IS_GRADIO_4:
        return arr
    from lib_scene.files import png_bytes

    if not _PREVIEW_DIR:
        _PREVIEW_DIR.append(tempfile.mkdtemp(prefix="scene-import-preview-"))
    path = os.path.join(_PREVIEW_DIR[0], f"p{next(_PREVIEW_SERIAL)}.png")
    with open(path, "wb") as fh:
        fh.write(png_bytes(arr))
    _PREVIEW_FILES.append(path)
    while len(_PREVIEW_FILES) > KEEP_PREVIEWS:
        with contextlib.suppress(OSError):
            os.remove(_PREVIEW_FILES.popleft())
    return path


def warn(message: str) -> None:
    """A gradio warning toast; silently skipped where gradio cannot show one."""
    with contextlib.suppress(Exception):  # a toast must never break a handler
        gr.Warning(message)


def info(message: str) -> None:
    with contextlib.suppress(Exception):
        gr.Info(message)


def select_index(evt) -> tuple | None:
    """``gr.SelectData.index`` as a tuple ((x, y) for images, (row, col) for dataframes)."""
    idx = getattr(evt, "index", None)
    if idx is None:
        return None
    if isinstance(idx, (list, tuple)):
        return tuple(idx)
    return (idx,)
