"""Benchmark: normal maps against the bare EXR decode, measured in the same run.

    python bench/bench_normals.py [--sizes 1200,4096] [--repeat 5]

For each size it writes a real multi-part EXR in Blender 5's layout (float32 depth and world-space
Normal passes, ZIP, sky in the top tenth, anti-aliased short normals here and there) with its
``<stem>.json`` sidecar, then times (best of N):

* ``decode``: OpenEXR decode of the file's pixels (the baseline: no tool can do less);
* ``decode+png``: the decode plus the PNG encode (Pillow, level 1, as lib_scene writes) of the
  finished normal map (what any normal map tool has to do at the least);
* ``normal_map``: :func:`lib_scene.normals.normal_map` on the loaded camera (renormalise, world ->
  camera rotation, fills, bae encoding) - compute only;
* ``build+check``: :func:`build_normal_map` with the axis check the CLI runs;
* ``naive``: a straightforward whole-array numpy version of the same maths, for reference;
* ``cli``: ``scene-import normal FILE --out DIR`` in-process: load, map, check, PNG written atomically.

It prints the best seconds of N rounds (the functions take turns within a round) and the ratios
to the baselines. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image

from lib_scene.canvas import CanvasSet, load_cameras
from lib_scene.cli import main as cli_main
from lib_scene.exr import write_exr
from lib_scene.normals import build_normal_map, camera_rotation, normal_map


def make_canvas(folder: str, n: int) -> str:
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) / n
    depth = (1.0 + 8.0 * ys + 0.5 * np.sin(xs * 20)).astype(np.float32)
    normal = np.stack([np.sin(xs * 9), np.cos(ys * 7), 0.5 + xs * ys], -1).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    normal *= rng.uniform(0.2, 1.0, (n, n, 1)).astype(np.float32) ** 4  # many short edge-like normals
    depth[: n // 10] = 1e10
    normal[: n // 10] = 0.0
    path = os.path.join(folder, f"Cam{n}.exr")
    write_exr(
        path,
        {
            "ViewLayer.Depth": {"ViewLayer.Depth.Z": depth},
            "ViewLayer.Normal": {f"ViewLayer.Normal.{c}": normal[..., i] for i, c in enumerate("XYZ")},
        },
    )
    mw = np.eye(4)
    a = np.radians(35.0)
    mw[:3, :3] = [[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]]
    with open(os.path.join(folder, f"Cam{n}.json"), "w", encoding="utf-8") as fh:
        json.dump({"camera": f"Cam{n}", "matrix_world": mw.tolist()}, fh)
    return path


def best_of(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best time of each function over ``repeat`` rounds, the functions taking turns within a round
    (so a busy machine slows all of them alike instead of whichever ran during a burst)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: min(v) for k, v in times.items()}


def decode(path: str) -> None:
    import OpenEXR

    f = OpenEXR.File(path, separate_channels=True)
    for p in f.parts:
        for ch in p.channels.values():
            np.asarray(ch.pixels)


def decode_png(path: str, img: NDArray[np.uint8]) -> None:
    decode(path)
    Image.fromarray(img, "RGB").save(io.BytesIO(), format="PNG", compress_level=1)


def naive(cs: CanvasSet) -> NDArray[np.uint8]:
    r = camera_rotation(cs.sidecar or {})
    n = np.einsum("hwi,ij->hwj", np.asarray(cs.normal), r)
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    ok = (length[..., 0] > 0.01) & cs.hit
    n = np.where(ok[..., None], n / np.maximum(length, 1e-12), [0.0, 0.0, 1.0])
    rgb = np.stack([(1 - n[..., 0]) / 2, (1 + n[..., 1]) / 2, (1 + n[..., 2]) / 2], -1)
    out: NDArray[np.uint8] = np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1200,4096")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cols = ("decode", "decode+png", "normal_map", "build+check", "naive", "cli")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print(f"{'size':>10}  " + "  ".join(f"{c + ' s':>13}" for c in cols))
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            exr = make_canvas(tmp, n)
            (cs,) = load_cameras(exr)
            ref = normal_map(cs)
            diff = np.abs(ref.astype(int) - naive(cs).astype(int))
            assert diff.max() <= 1, diff.max()  # the same maths (float32 vs float64 rounding)
            out = os.path.join(tmp, f"out{n}")

            def cli(exr: str = exr, out: str = out) -> None:
                with contextlib.redirect_stdout(io.StringIO()):
                    cli_main(["normal", exr, "--out", out])

            t = best_of(
                {
                    "decode": partial(decode, exr),
                    "decode+png": partial(decode_png, exr, ref),
                    "normal_map": partial(normal_map, cs),
                    "build+check": partial(build_normal_map, cs),
                    "naive": partial(naive, cs),
                    "cli": cli,
                },
                args.repeat,
            )
            print(f"{n:>5}x{n:<4}  " + "  ".join(f"{t[c]:>13.3f}" for c in cols))
            ratios.append((n, t))
    print()
    for n, t in ratios:
        print(
            f"{n}x{n}: normal_map / decode = {t['normal_map'] / t['decode']:.2f}, "
            f"build+check / decode = {t['build+check'] / t['decode']:.2f}, "
            f"naive / normal_map = {t['naive'] / t['normal_map']:.2f}, "
            f"cli / (decode+png) = {t['cli'] / t['decode+png']:.2f}"
        )


if __name__ == "__main__":
    main()
