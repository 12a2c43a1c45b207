"""Install what A1111 lacks for Scene Import (OpenEXR), never moving what the webui pinned.

A1111 runs this in a subprocess at start-up. ``launch.run_pip`` does nothing under ``--skip-install``
(A1111's own rule), so that flag is honoured. The installed numpy, Pillow, opencv, gradio and pydantic
versions are passed to pip as constraints (``-c``), so OpenEXR's dependencies cannot upgrade or
downgrade them.
"""

import contextlib
import os
import sys
import tempfile
from importlib import metadata

import launch

PINNED = (
    "numpy",
    "Pillow",
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
    "gradio",
    "gradio_client",
    "pydantic",
)


def openexr_requirement() -> str:
    # OpenEXR 3.5.2 is the release tested on A1111's Python 3.10; 3.5.x on newer Pythons.
    return "OpenEXR==3.5.2" if sys.version_info < (3, 11) else "OpenEXR>=3.5,<3.6"


def constraints() -> list:
    pins = []
    for dist in PINNED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            pins.append(f"{dist}=={metadata.version(dist)}")
    return pins


def main() -> None:
    if launch.is_installed("OpenEXR"):
        return
    fd, path = tempfile.mkstemp(prefix="scene-import-constraints-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(constraints()) + "\n")
        launch.run_pip(f'install "{openexr_requirement()}" -c "{path}"', "OpenEXR for Scene Import")
    finally:
        os.unlink(path)


main()
