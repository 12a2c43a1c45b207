"""Benchmark: warping one camera's image into another against one EXR decode of the same canvas.

    python bench/bench_warp.py [--sizes 1024] [--repeat 5]

For each size N it writes two real N x N cameras (Blender 5 multi-part EXR, ZIP: beauty RGBA half +
planar depth, and their sidecars) looking at a wall with a sphere in front of it from 0.6 apart and
12 degrees turned (world Normal pass included), and times (best of N):

* baseline: ``read_exr`` of the target's EXR (one decode of the canvas, all parts);
* warp: :func:`lib_scene.reproject.warp` of an N x N 8-bit RGB image of camera A into camera B
  (views built beforehand: the per-camera part a chain does once per camera);
* view: ``View.of`` (pose and inverse depth from a loaded canvas set).

It prints milliseconds (wall, and the warp's CPU time, which a busy machine disturbs less), the
share of B carried, and the ratio warp / decode. The target is <= 100 ms for 1024 x 1024. Nothing
is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import best

from lib_scene.canvas import load_multilayer
from lib_scene.exr import read_exr, write_exr
from lib_scene.reproject import View, warp

LENS, SENSOR = 30.0, 36.0


def best_cpu(fn: Callable[[], Any], repeat: int) -> float:
    """CPU seconds of the cheapest of ``repeat`` calls: steadier than wall time on a busy machine."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def _pose(x: float, yaw_deg: float) -> NDArray[Any]:
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    m = np.eye(4)
    m[:3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    m[:3, 3] = [x, 0.0, 0.0]
    return m


def _render(m: NDArray[Any], n: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Planar depth and world normals of a wall at z = -10 and a sphere of radius 1.5 at (0, 0, -5)."""
    f = LENS / SENSOR * n
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float64)
    d = np.stack([(xs + 0.5 - n / 2) / f, -(ys + 0.5 - n / 2) / f, -np.ones_like(xs)], -1) @ m[:3, :3].T
    o = m[:3, 3]
    t_wall = (-10.0 - o[2]) / d[..., 2]
    oc = o - np.array([0.0, 0.0, -5.0])
    a = (d * d).sum(-1)
    b = 2 * (d @ oc)
    disc = b * b - 4 * a * (oc @ oc - 1.5**2)
    t_sph = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
    t = np.minimum(t_wall, t_sph)
    normal = np.where(
        (t_sph < t_wall)[..., None], (o + d * t[..., None] - [0.0, 0.0, -5.0]) / 1.5, [0.0, 0.0, 1.0]
    )
    return t.astype(np.float32), normal.astype(np.float32)


def make_camera(folder: str, name: str, m: NDArray[Any], n: int) -> str:
    rng = np.random.default_rng(0)
    path = os.path.join(folder, f"{name}.exr")
    beauty = {
        f"ViewLayer.Combined.{c}": rng.random((n, n), dtype=np.float32).astype(np.float16) for c in "RGBA"
    }
    depth, normal = _render(m, n)
    parts = {
        "ViewLayer.Combined": beauty,
        "ViewLayer.Depth": {"ViewLayer.Depth.Z": depth},
        "ViewLayer.Normal": {f"ViewLayer.Normal.{c}": normal[..., i] for i, c in enumerate("XYZ")},
    }
    write_exr(path, parts)
    side = {
        "camera": name,
        "matrix_world": m.tolist(),
        "lens_mm": LENS,
        "sensor_width_mm": SENSOR,
        "sensor_fit": "AUTO",
        "clip": [0.1, 100.0],
        "resolution": [n, n],
    }
    with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as fh:
        json.dump(side, fh)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1024")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(
        f"{'size':>10}  {'decode ms':>9}  {'view ms':>7}  {'warp ms':>7}  {'warp cpu':>8}  {'carried':>7}  "
        f"{'warp/decode':>11}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            pa = make_camera(tmp, f"A{n}", _pose(0.0, 0.0), n)
            pb = make_camera(tmp, f"B{n}", _pose(0.6, 12.0), n)
            ca, cb = load_multilayer(pa), load_multilayer(pb)
            va, vb = View.of(ca), View.of(cb)
            img = np.random.default_rng(1).integers(0, 256, (n, n, 3), dtype=np.uint8)
            t_dec = best(lambda: read_exr(pb), args.repeat)  # noqa: B023
            t_view = best(lambda: View.of(cb), args.repeat)  # noqa: B023
            t_warp = best(lambda: warp([(va, img)], vb), args.repeat)  # noqa: B023
            t_cpu = best_cpu(lambda: warp([(va, img)], vb), args.repeat)  # noqa: B023
            carried = warp([(va, img)], vb).carried_fraction
            print(
                f"{n:>5}x{n:<4}  {1e3 * t_dec:>9.1f}  {1e3 * t_view:>7.1f}  {1e3 * t_warp:>7.1f}  "
                f"{1e3 * t_cpu:>8.1f}  {100 * carried:>6.1f}%  {t_warp / t_dec:>11.2f}"
            )


if __name__ == "__main__":
    main()
