"""Make a Daz-Studio-style (Iray canvases) sample set from one Blender camera.

    python tools/make_daz_sample.py                       # samples/room/Cam0 -> samples/room_daz/
    python tools/make_daz_sample.py --exr samples/room/Cam1.exr --out /tmp/daz --prefix room

Needs numpy and OpenEXR >= 3.3 (the ``OpenEXR.File`` API); no Blender.

Reads ``<Cam>.exr`` (Blender 5 multi-part multilayer; Blender 4 single-part
names are accepted too) and the sidecar ``<Cam>.json`` (camera matrix_world),
and writes three single-part, ZIP-compressed, scanline EXRs named the way Daz
Studio names canvas files (``<scene>-Canvas<N>-<Name>.exr``):

``room-Canvas1-Beauty.exr``
    channels ``R``, ``G``, ``B``, ``A`` as half: Blender's Combined (linear,
    scene-referred), just converted to half.
``room-Canvas2-Depth.exr``
    one channel ``Y``, float32: planar depth along the camera axis (Blender's
    Depth pass is already planar camera Z) in CENTIMETRES (Daz's scene unit:
    metres x 100, times the sidecar's unit_scale if present).  No-hit pixels
    (Cycles writes 1e10 there) become 3.4028235e38 = float32 max, mimicking
    Iray; the daz_depthmap_processor docs accept ``--depth_cutoff 1.5e+38``.
``room-Canvas3-Normal.exr``
    channels ``R``, ``G``, ``B`` as half: the CAMERA-space shading normal
    (Iray documents its normal canvas as camera space).  Camera axes: x right,
    y up, z toward the viewer (the camera looks down -z), i.e. Blender's camera
    local axes, so n_cam = R^T n_world with R the rotation of the sidecar's
    matrix_world (columns normalised, so a scaled camera is fine).  The normals
    are NOT renormalised: Blender averages them over the pixel filter, so edge
    pixels are shorter than unit length, as a filtered render would be.
    No-hit pixels are 0, 0, 0 (Blender leaves filtered normal bleed on
    background pixels next to objects; it is cleared here using the depth).

What is guessed (no real Daz file was at hand): the exact no-hit value, the
half/float choice per canvas, the normal canvas's channel names and its axis
signs.  Readers should accept other plausible variants too.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import OpenEXR

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FLOAT_MAX = np.float32(3.4028235e38)
BLENDER_NO_HIT = 1e9  # Cycles: 1e10; EEVEE: clip end (not handled here)


def read_channels(path):
    f = OpenEXR.File(path, separate_channels=True)
    out = {}
    for part in f.parts:
        for name, ch in part.channels.items():
            out[name] = ch.pixels
    return out


def pick(chans, *suffixes):
    for s in suffixes:
        hits = [k for k in chans if k.endswith(s)]
        if hits:
            return chans[sorted(hits)[0]]
    raise KeyError(f"none of {suffixes} in {sorted(chans)}")


def camera_rotation(matrix_world):
    m = np.asarray(matrix_world, dtype=np.float64)[:3, :3]
    return m / np.linalg.norm(m, axis=0, keepdims=True)  # columns = camera x, y, z in world


def write_exr(path, channels):
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    OpenEXR.File(header, channels).write(path)


def convert(exr_path, json_path, out_dir, prefix="room"):
    chans = read_channels(exr_path)
    meta = json.load(open(json_path, encoding="utf-8"))
    os.makedirs(out_dir, exist_ok=True)

    rgba = [pick(chans, f".Combined.{c}") for c in "RGBA"]
    depth = pick(chans, ".Depth.Z", ".Z").astype(np.float32)
    normal_w = np.stack([pick(chans, f".Normal.{c}") for c in "XYZ"], -1).astype(np.float64)

    no_hit = ~np.isfinite(depth) | (depth >= BLENDER_NO_HIT)
    cm_per_unit = 100.0 * float(meta.get("unit_scale", 1.0) or 1.0)
    depth_cm = (depth.astype(np.float64) * cm_per_unit).astype(np.float32)
    depth_cm[no_hit] = FLOAT_MAX

    rot = camera_rotation(meta["matrix_world"])
    normal_c = normal_w @ rot  # row vectors: n_cam = R^T n_world
    normal_c[no_hit] = 0.0

    files = {
        "Beauty": (1, {c: a.astype(np.float16) for c, a in zip("RGBA", rgba, strict=False)}),
        "Depth": (2, {"Y": depth_cm}),
        "Normal": (
            3,
            {c: np.ascontiguousarray(normal_c[..., i]).astype(np.float16) for i, c in enumerate("RGB")},
        ),
    }
    written = []
    for name, (n, chs) in files.items():
        path = os.path.join(out_dir, f"{prefix}-Canvas{n}-{name}.exr")
        write_exr(path, chs)
        written.append(path)
    return written


def main():
    p = argparse.ArgumentParser(description="Blender camera EXR -> Daz-style canvas EXRs")
    p.add_argument("--exr", default=os.path.join(REPO, "samples", "room", "Cam0.exr"))
    p.add_argument("--json", default="", help="sidecar (default: the EXR's name with .json)")
    p.add_argument("--out", default=os.path.join(REPO, "samples", "room_daz"))
    p.add_argument("--prefix", default="room")
    a = p.parse_args()
    side = a.json or os.path.splitext(a.exr)[0] + ".json"
    for path in convert(a.exr, side, a.out, a.prefix):
        print(f"{path}  {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
