"""Fuzz the upload decoder: a JSON body of ``files`` as the routes and the Script receive it, then the
decoded files read as a scene (names, base64, size cap, the EXR and sidecar readers behind them).

Anything but a ``SceneImportError`` is a finding. Run: ``tools/fuzz/run.sh upload 600``.
"""

from __future__ import annotations

import os
import shutil
import sys

import _common
import atheris

with atheris.instrument_imports():
    from lib_scene.canvas import discover, load_camera
    from lib_scene.errors import SceneImportError
    from lib_scene.jsonio import parse_json
    from lib_scene.paths import decode_uploads, write_uploads

MAX_BYTES = 1 << 20


def TestOneInput(data: bytes) -> None:
    dest = os.path.join(_common.SCRATCH, "upload")
    shutil.rmtree(dest, ignore_errors=True)
    try:
        body = parse_json(data, "request body")
        files = body.get("files") if isinstance(body, dict) else body
        decoded = decode_uploads(files, MAX_BYTES)
        paths = write_uploads(decoded, dest)
        if any(p.lower().endswith(".exr") for p in paths):
            for src in discover([dest]):
                load_camera(src)
    except SceneImportError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
