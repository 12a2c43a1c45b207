"""Real EXR files written with OpenEXR for the tests: a small synthetic scene in every layout.

The scene: a camera looking down -Z at a back wall (depth 8) with a sphere (index 1) of radius 1
at depth 4 in front of it, a box (index 2) on the left at depth 3, and sky (no hit) in the top
rows. Depth is planar camera Z; normals are analytic.
"""

from __future__ import annotations

import os

import numpy as np

from lib_scene.exr import write_exr

W, H = 64, 48


def scene(width: int = W, height: int = H, background: float = 1e10):
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    # camera space: x right, y up; a pinhole with focal length f (pixels)
    f = width * 0.9
    dx = (xs + 0.5 - width / 2) / f
    dy = -(ys + 0.5 - height / 2) / f
    depth = np.full((height, width), 8.0, np.float32)
    normal_cam = np.zeros((height, width, 3), np.float32)
    normal_cam[..., 2] = 1.0  # the wall faces the camera
    index = np.zeros((height, width), np.float32)
    index[:] = 3  # the wall
    # box: planar face at depth 3 on the left
    box = (dx < -0.25) & (dx > -0.5) & (dy < 0.1) & (dy > -0.2)
    depth[box], index[box] = 3.0, 2
    # sphere centred at (0, 0, -4) radius 1: ray (dx, dy, -1) t
    # |t*(dx,dy,-1) - (0,0,-4)|^2 = 1 -> t^2 (dx^2+dy^2+1) - 8t + 15 = 0
    a = dx**2 + dy**2 + 1
    disc = 64 - 60 * a
    sph = disc >= 0
    t = np.where(sph, (8 - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
    closer = sph & (t < depth)
    p = np.stack([t * dx, t * dy, -t], -1)
    n = p - np.array([0, 0, -4], np.float32)
    depth = np.where(closer, t, depth).astype(np.float32)
    normal_cam = np.where(closer[..., None], n, normal_cam).astype(np.float32)
    index = np.where(closer, 1, index).astype(np.float32)
    sky = ys < 4
    depth[sky], normal_cam[sky], index[sky] = background, 0, 0
    beauty = np.stack([index / 3, 1 - index / 3, np.full_like(index, 0.5), np.ones_like(index)], -1).astype(
        np.float32
    )
    return depth, normal_cam, index, beauty


# A camera rotated about Y by +90 degrees (looking down world -X), so world normals differ from camera ones.
CAM_ROT = np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], np.float32)  # camera -> world rotation


def sidecar(name: str = "Cam0", width: int = W, height: int = H) -> dict:
    m = np.eye(4)
    m[:3, :3] = CAM_ROT
    m[:3, 3] = [4.0, 1.0, 0.0]
    return {
        "camera": name,
        "matrix_world": m.tolist(),
        "lens_mm": 35.0,
        "sensor_width_mm": 36.0,
        "sensor_fit": "AUTO",
        "clip": [0.1, 100.0],
        "resolution": [width, height],
        "objects": {
            "Ball": {"pass_index": 1, "Description": "a red ball", "location": [0, 0, -4]},
            "Box": {"pass_index": 2, "Description": "a wooden box", "location": [-1, 0, -3]},
            "Wall": {"pass_index": 3, "Description": "a green wall", "location": [0, 0, -8]},
        },
    }


def write_blender5(
    path: str, layer: str = "ViewLayer", compression: str = "ZIP", half: bool = False, **kw
) -> str:
    depth, ncam, index, beauty = scene(**kw)
    nworld = ncam @ CAM_ROT.T
    bt = np.float16 if half else np.float32
    parts = {
        f"{layer}.Combined": {
            f"{layer}.Combined.{c}": beauty[..., i].astype(bt) for i, c in enumerate("RGBA")
        },
        f"{layer}.Depth": {f"{layer}.Depth.Z": depth},
        f"{layer}.Normal": {f"{layer}.Normal.{c}": nworld[..., i].astype(bt) for i, c in enumerate("XYZ")},
        f"{layer}.Object Index": {f"{layer}.Object Index.X": index},
        f"{layer}.Material Index": {f"{layer}.Material Index.X": (index > 0).astype(np.float32)},
    }
    write_exr(path, parts, compression=compression)
    return path


def write_blender4(path: str, layer: str = "ViewLayer", compression: str = "ZIP", **kw) -> str:
    depth, ncam, index, beauty = scene(**kw)
    nworld = ncam @ CAM_ROT.T
    chans = {f"{layer}.Combined.{c}": beauty[..., i] for i, c in enumerate("RGBA")}
    chans[f"{layer}.Depth.Z"] = depth
    chans.update({f"{layer}.Normal.{c}": nworld[..., i] for i, c in enumerate("XYZ")})
    chans[f"{layer}.IndexOB.X"] = index
    chans[f"{layer}.IndexMA.X"] = (index > 0).astype(np.float32)
    write_exr(path, chans, compression=compression)
    return path


def write_daz(
    folder: str, stem: str = "scene", compression: str = "ZIP", half_depth: bool = False, **kw
) -> dict:
    depth, ncam, index, beauty = scene(background=3.4028235e38, **kw)
    os.makedirs(folder, exist_ok=True)
    d_cm = np.where(depth > 1e9, np.float32(3.4028235e38), np.minimum(depth, 1e6) * np.float32(100)).astype(
        np.float32
    )
    paths = {
        "beauty": os.path.join(folder, f"{stem}-Canvas1-Beauty.exr"),
        "depth": os.path.join(folder, f"{stem}-Canvas2-Depth.exr"),
        "normal": os.path.join(folder, f"{stem}-Canvas3-Normal.exr"),
    }
    write_exr(
        paths["beauty"], {c: beauty[..., i].astype(np.float16) for i, c in enumerate("RGBA")}, compression
    )
    dz = d_cm.astype(np.float16) if half_depth else d_cm.astype(np.float32)
    write_exr(paths["depth"], {"Y": dz}, compression)
    write_exr(paths["normal"], {c: ncam[..., i].astype(np.float16) for i, c in enumerate("RGB")}, compression)
    return paths


#: Compressions of :func:`write_mixed_parts`' parts, one per part (every codec the library has that
#: stores float, half and uint exactly or as the codec does; the comparison is with OpenEXR's own
#: whole-file read, so a lossy codec must only agree with itself).
MIXED_COMPRESSIONS = ("ZIP", "PIZ", "RLE", "NO", "ZIPS", "PXR24", "B44", "DWAA")


def write_mixed_parts(path: str, width: int = 200, height: int = 130, compressions=MIXED_COMPRESSIONS) -> str:
    """A multi-part file of scan-line and tiled parts (odd parts tiled, tile sizes that do not
    divide the image), several compressions, both line orders, float/half/uint channels and one
    part whose data window is smaller than the display window."""
    import OpenEXR

    rng = np.random.default_rng(0)
    parts = []
    for k, comp in enumerate(compressions):
        hdr = {"compression": getattr(OpenEXR, f"{comp}_COMPRESSION"), "type": OpenEXR.scanlineimage}
        h, w = height, width
        if k % 2:
            tiles = OpenEXR.TileDescription()
            tiles.xSize, tiles.ySize = 32 + 16 * k, 16 + 8 * k
            hdr.update({"type": OpenEXR.tiledimage, "tiles": tiles})
        if k % 3 == 2:
            hdr["lineOrder"] = OpenEXR.DECREASING_Y
        if k == 4:  # a data window inside the display window
            h, w = height - 20, width - 30
            hdr["displayWindow"] = ((0, 0), (width - 1, height - 1))
            hdr["dataWindow"] = ((10, 5), (10 + w - 1, 5 + h - 1))
        chans = {
            f"P{k}.X": rng.random((h, w), dtype=np.float32),
            f"P{k}.H": rng.random((h, w), dtype=np.float32).astype(np.float16),
            f"P{k}.U": rng.integers(0, 1000, (h, w), dtype=np.uint32),
        }
        parts.append(OpenEXR.Part(hdr, chans, f"part{k}"))
    OpenEXR.File(parts).write(path)
    return path


def write_two_cameras(folder) -> str:
    """Cam0 and Cam1 (Blender 5 layout, each with its sidecar) in ``folder``; returns the folder."""
    import json

    for name in ("Cam0", "Cam1"):
        write_blender5(os.path.join(str(folder), f"{name}.exr"))
        with open(os.path.join(str(folder), f"{name}.json"), "w", encoding="utf-8") as fh:
            json.dump(sidecar(name), fh)
    return str(folder)
