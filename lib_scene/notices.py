"""Honest warnings: results that are valid but almost surely not what the user meant.

ONE mechanism for every entry point: the checks here return plain sentences; the plan carries them
in ``GenerationPlan.warnings`` (the API's ``warnings`` list, the tab's notices), and the CLI prints
each as ``scene-import: warning: ...`` on stderr (:func:`emit`). A warning never changes an output.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from .blocks import TableImage

__all__ = ["depth_map_notes", "emit", "normal_map_notes", "region_mask_notes"]


def depth_map_notes(
    camera: str, grey: NDArray[Any], hit: NDArray[Any] | None, unit: str = "scene"
) -> list[str]:
    """An all-black depth map: every pixel is no-hit or at/past the cutoff."""
    if grey.size == 0 or grey.any():
        return []
    hits = 0 if hit is None else int(np.count_nonzero(hit))
    if hits == 0:
        why = "the depth canvas has no hit pixel (all no-hit, NaN or inf): check the render's depth pass"
    else:
        units = "centimetres (Daz)" if unit == "cm" else "scene units (Blender: metres)"
        why = (
            f"all {hits} hit pixels are at or past the cutoff or outside the splits: check the preset's "
            f"depths and cutoff; they are in {units}"
        )
    return [f"camera {camera}: the depth map is all black; {why}"]


def normal_map_notes(camera: str, rgb: NDArray[Any]) -> list[str]:
    """An empty normal map: a single flat colour (no hit pixels, or a normal pass of zeros)."""
    if rgb.size == 0:
        return []
    flat = rgb.reshape(-1, rgb.shape[-1])
    if (flat == flat[0]).all():
        return [
            f"camera {camera}: the normal map is one flat colour {tuple(int(v) for v in flat[0])}; the normal "
            "canvas holds no usable normals (nothing hit, or an empty pass)"
        ]
    return []


def region_mask_notes(camera: str, rgb: NDArray[Any] | TableImage, hint: str = "") -> list[str]:
    """An all-black region mask: no pixel belongs to any region."""
    if rgb.size == 0 or rgb.any():
        return []
    return [f"camera {camera}: the region mask is all black (no regions){'; ' + hint if hint else ''}"]


def emit(notes: Iterable[str], stream: TextIO | None = None) -> None:
    """Print each distinct note as ``scene-import: warning: ...`` (stderr by default)."""
    out = stream or sys.stderr
    for note in dict.fromkeys(notes):
        print(f"scene-import: warning: {note}", file=out, flush=True)
