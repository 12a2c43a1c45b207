"""Benchmark: building a generation plan and its payload, against the bare decode+encode baseline.

    python bench/bench_plan.py [--sizes 1200,4096] [--repeat 3]

For each size it writes a real multi-part EXR in Blender 5's layout (beauty, depth, world normals,
object index; ZIP) with its ``<stem>.json`` sidecar, then times (best of N):

* ``baseline``: OpenEXR decode of the file + PNG encode of one canvas-sized RGB image (the least
  any tool must do);
* ``load``: :func:`lib_scene.canvas.load_camera` (decode, layout, no-hit mask);
* ``plan 512`` / ``plan native``: :func:`lib_scene.plan.build_plan` in img2img mode at long side 512
  and at the canvas size (depth quantisation, normal map, regions, tone map, resizes, checks);
* ``payload``: :func:`lib_scene.plan.to_payload` (the PNG base64 encodes) of the 512 plan.

It prints seconds and ratios to the baseline; nothing is asserted. Regions and normals are used when
``lib_scene.regions`` / ``lib_scene.normals`` are installed (the output says which).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
import tempfile
from functools import partial

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import OpenEXR  # noqa: E402
from PIL import Image  # noqa: E402
from scenes import sidecar, write_blender5  # type: ignore[import-not-found]  # noqa: E402
from timing import best  # noqa: E402

from lib_scene.canvas import discover, load_camera  # noqa: E402
from lib_scene.params import PlanParams  # noqa: E402
from lib_scene.plan import build_plan  # noqa: E402
from lib_scene.wire import to_payload  # noqa: E402


def baseline(path: str, w: int, h: int) -> None:
    with OpenEXR.File(path, separate_channels=True) as f:
        for part in f.parts:
            for ch in part.channels.values():
                np.asarray(ch.pixels)
    buf = io.BytesIO()
    Image.fromarray(np.zeros((h, w, 3), np.uint8), "RGB").save(buf, "PNG", compress_level=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1200,4096", help="canvas widths (height = 3/4 width)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    have = {m: importlib.util.find_spec(f"lib_scene.{m}") is not None for m in ("regions", "normals")}
    print(f"lib_scene.regions: {have['regions']}, lib_scene.normals: {have['normals']}")
    p512 = PlanParams.from_dict({"mode": "img2img", "base_prompt": "a room"})
    pnat = p512.replace(long_side=0)
    with tempfile.TemporaryDirectory() as tmp:
        for w in (int(s) for s in args.sizes.split(",")):
            h = w * 3 // 4
            path = os.path.join(tmp, f"Cam{w}.exr")
            write_blender5(path, width=w, height=h)
            with open(os.path.join(tmp, f"Cam{w}.json"), "w") as fh:
                json.dump(sidecar(f"Cam{w}", w, h), fh)
            src = next(s for s in discover([path]))
            cs = load_camera(src)
            t_base = best(partial(baseline, path, w, h), args.repeat)
            t_load = best(partial(load_camera, src), args.repeat)
            t_512 = best(partial(build_plan, cs, p512), args.repeat)
            t_nat = best(partial(build_plan, cs, pnat), args.repeat)
            plan = build_plan(cs, p512)
            t_pay = best(partial(to_payload, plan), args.repeat)
            print(f"{w}x{h}: baseline {t_base:.3f}s")
            for name, t in (
                ("load", t_load),
                ("plan 512", t_512),
                ("plan native", t_nat),
                ("payload", t_pay),
            ):
                print(f"  {name:<12} {t:.3f}s  x{t / t_base:.2f} of baseline")


if __name__ == "__main__":
    main()
