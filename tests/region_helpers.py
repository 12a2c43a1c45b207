"""Helpers shared by the region tests (real EXRs written with OpenEXR, the sample renders)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import SAMPLES

from lib_scene.exr import write_exr

ROOM = os.path.join(SAMPLES, "room")
needs_room = pytest.mark.skipif(
    not os.path.isfile(os.path.join(ROOM, "Cam0.exr")), reason="samples/room not present"
)
# Regional Prompter counts these substrings (scripts/rp.py keycounter, ALLALLKEYS @ be62345)
RP_ALLALLKEYS = ("ADDCOMM", "ADDROW", "ADDCOL", "ADDBASE", "ADDP", "BREAK", "AND")


# --------------------------------------------------------------------------- helpers


def write_index_exr(
    path,
    index=None,
    depth=None,
    aovs=None,
    material=None,
    side=None,
    layer="ViewLayer",
):
    """A Blender 5 style multi-part EXR with the given passes (and a sidecar when given)."""
    shape = next(a.shape for a in (index, depth, material, *(aovs or {}).values()) if a is not None)
    if depth is None:
        depth = np.full(shape, 5.0, np.float32)
    parts = {f"{layer}.Depth": {f"{layer}.Depth.Z": np.asarray(depth, np.float32)}}
    if index is not None:
        parts[f"{layer}.Object Index"] = {f"{layer}.Object Index.X": np.asarray(index, np.float32)}
    if material is not None:
        parts[f"{layer}.Material Index"] = {f"{layer}.Material Index.X": np.asarray(material, np.float32)}
    for name, arr in (aovs or {}).items():
        parts[f"{layer}.{name}"] = {f"{layer}.{name}.X": np.asarray(arr, np.float32)}
    write_exr(str(path), parts)
    if side is not None:
        stem = os.path.splitext(str(path))[0]
        with open(stem + ".json", "w", encoding="utf-8") as fh:
            json.dump(side, fh)
    return str(path)


def side_with(objects: dict, name="Cam0", position=(0.0, 0.0, 0.0)):
    m = np.eye(4)
    m[:3, 3] = position
    return {"camera": name, "matrix_world": m.tolist(), "objects": objects}


def colours_of(mask: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(int(c) for c in px) for px in np.unique(mask.reshape(-1, 3), axis=0)}


def dilate8(m: np.ndarray, n: int) -> np.ndarray:
    """Chebyshev dilation by n pixels (test-side reference, independent of lib_scene)."""
    out = m.copy()
    for _ in range(n):
        p = np.pad(out, 1)
        nxt = out.copy()
        for dy in range(3):
            for dx in range(3):
                nxt |= p[dy : dy + m.shape[0], dx : dx + m.shape[1]]
        out = nxt
    return out


def rp_sections(prompt: str) -> int:
    """Regions Regional Prompter will see: it converts every keyword substring into a separator."""
    return 1 + sum(prompt.count(k) for k in RP_ALLALLKEYS)
