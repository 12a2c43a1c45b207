"""Fuzz the EXR reader: headers, chunks, multi-part files (the part cutting of
``lib_scene/exr_parts.py`` included), every layout the loader reads.

Any exception that is not a ``SceneImportError`` (or a crash/hang in OpenEXR) is a finding.
Run: ``tools/fuzz/run.sh exr 600`` (see tools/fuzz/README.md).
"""

from __future__ import annotations

import sys

import _common
import atheris

with atheris.instrument_imports():
    from lib_scene import exr_parts
    from lib_scene.canvas import load_multilayer
    from lib_scene.errors import SceneImportError
    from lib_scene.exr import read_header


def TestOneInput(data: bytes) -> None:
    path = _common.scratch_file("Cam0.exr", data)
    exr_parts.scan(path)  # never raises: a layout it does not understand is None
    try:
        read_header(path)
        load_multilayer(path)
    except SceneImportError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
