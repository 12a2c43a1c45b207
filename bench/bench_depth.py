"""Benchmark: the CLI's depth path against the bare decode+encode baseline, measured in the same run.

    python bench/bench_depth.py [--sizes 1200,4096] [--repeat 3]

For each size it writes a real multi-part EXR (Blender 5 layout: depth + beauty, ZIP) and times:

* baseline: OpenEXR decode of the file + PNG encode of one 8-bit canvas-sized image (the least
  any tool must do);
* depth path: ``scene-import depth FILE --splits PRESET --out DIR`` in-process (read, no-hit mask,
  five-split quantisation, test and region images, three PNGs written atomically).

It prints seconds (best of N) and the ratio depth-path / baseline. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from PIL import Image
from timing import PRESET, best

from lib_scene.cli import main as cli_main
from lib_scene.exr import write_exr


def make_canvas(path: str, n: int) -> None:
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) / n
    depth = (1.0 + 8.0 * ys + 0.5 * np.sin(xs * 20)).astype(np.float32)
    depth += rng.normal(0, 0.01, depth.shape).astype(np.float32)
    depth[: n // 10] = 1e10  # sky
    beauty = {
        f"ViewLayer.Combined.{c}": rng.random((n, n), dtype=np.float32).astype(np.float16) for c in "RGBA"
    }
    write_exr(path, {"ViewLayer.Combined": beauty, "ViewLayer.Depth": {"ViewLayer.Depth.Z": depth}})


def baseline(path: str) -> None:
    import OpenEXR

    f = OpenEXR.File(path, separate_channels=True)
    z = next(p for p in f.parts if "Depth" in str(p.header.get("name")))
    d = z.channels["ViewLayer.Depth.Z"].pixels
    Image.fromarray(np.clip(d, 0, 255).astype(np.uint8), "L").save(
        io.BytesIO(), format="PNG", compress_level=1
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1200,4096")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    preset = PRESET
    print(f"{'size':>10}  {'baseline s':>10}  {'depth s':>9}  {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        ppath = os.path.join(tmp, "preset.json")
        with open(ppath, "w") as fh:
            json.dump(preset, fh)
        for n in (int(s) for s in args.sizes.split(",")):
            exr = os.path.join(tmp, f"Cam{n}.exr")
            make_canvas(exr, n)
            out = os.path.join(tmp, f"out{n}")
            import contextlib

            with contextlib.redirect_stdout(io.StringIO()):
                t_depth = best(lambda: cli_main(["depth", exr, "--splits", ppath, "--out", out]), args.repeat)  # noqa: B023
            t_base = best(lambda: baseline(exr), args.repeat)  # noqa: B023
            print(f"{n:>5}x{n:<4}  {t_base:>10.3f}  {t_depth:>9.3f}  {t_depth / t_base:>6.2f}")


if __name__ == "__main__":
    main()
