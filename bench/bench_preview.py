"""Benchmark: one edit's re-render in the Scene Import tab, at preview resolution, against the same
re-render at full canvas resolution, measured in the same run.

    python bench/bench_preview.py [--sizes 1200,4096] [--repeat 5]

For each square canvas (the synthetic room of tests/scenes.py: sphere, box, wall, sky) it times:

* prepare (once per camera): preview sampling (long side 1024), beauty box filter + tone map, the
  sorted hit-depth index;
* edit, preview: one split edit (``add_cut``) and everything the depth panel shows after it -
  quantised depth and test colours at preview resolution, the histogram plot, whole-canvas pixel
  counts per split and levels used/wasted (``lib_scene.preview.render_depth``);
* edit + PNG: the same plus PNG-encoding the three images as the tab hands them to gradio 3 (our
  encoder, a file gradio base64s);
* baseline, full: the same edit rendered the direct way at full resolution (quantise, test image,
  per-split counts and level usage over every pixel, ``lib_scene.depth``), no PNG.

It prints milliseconds (best of N) and the ratios to the baseline. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

_R = TypeVar("_R")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from PIL import Image  # noqa: E402
from scenes import scene  # type: ignore[import-not-found]  # noqa: E402

from lib_scene.canvas import CanvasSet, no_hit_mask  # noqa: E402
from lib_scene.depth import auto_plan, level_usage, quantize, split_counts, test_image  # noqa: E402
from lib_scene.files import png_bytes  # noqa: E402
from lib_scene.preview import DepthRender, prepare, render_depth  # noqa: E402
from lib_scene.splits import SplitPlan  # noqa: E402


def best(fn: Callable[[], _R], repeat: int) -> tuple[float, _R]:
    times: list[float] = []
    out = fn()
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3, out


def pillow_png(arr: NDArray[np.uint8]) -> int:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")  # gradio's default encoder settings
    return buf.tell()


_TMP = tempfile.mkdtemp(prefix="bench-preview-")


def file_png(arr: NDArray[np.uint8]) -> int:
    """What the tab does on gradio 3 (``compat.png_image``): our encoder writes a file, gradio
    reads it and base64s the bytes."""
    path = os.path.join(_TMP, "p.png")
    with open(path, "wb") as fh:
        fh.write(png_bytes(arr))
    with open(path, "rb") as fh:
        return len(base64.b64encode(fh.read()))


def run(n: int, repeat: int) -> dict[str, Any]:
    depth, _, index, beauty = scene(n, n)
    hit = ~no_hit_mask(depth)
    for a in (depth, hit, index, beauty):
        a.flags.writeable = False
    cs = CanvasSet("bench", n, n, "plain", depth=depth, hit=hit, beauty=beauty, object_index=index)
    t_prep, pv = best(partial(prepare, cs), max(1, repeat // 2))
    plan0 = auto_plan(depth, hit).set_flag(0, "test", "red")
    lo, hi = cs.depth_range() or (0.0, 1.0)
    cuts = [lo + (hi - lo) * f for f in (0.31, 0.47, 0.63, 0.79)]
    k = [0]

    def edited() -> SplitPlan:  # a different cut each time, like an artist's clicks
        k[0] += 1
        return plan0.add_cut(cuts[k[0] % len(cuts)])

    def preview_edit() -> DepthRender:
        return render_depth(pv, edited(), log=True)

    def preview_edit_png() -> int:
        r = render_depth(pv, edited(), log=True)
        return file_png(r.depth) + file_png(r.test) + file_png(r.histogram)  # as the tab sends them

    def full_edit() -> tuple[object, ...]:
        plan = edited()
        return (
            quantize(depth, hit, plan),
            test_image(depth, hit, plan),
            split_counts(depth, hit, plan),
            level_usage(depth, hit, plan),
        )

    t_prev, _ = best(preview_edit, repeat)
    t_png, _ = best(preview_edit_png, repeat)
    t_full, _ = best(full_edit, repeat)
    return {
        "size": n,
        "preview": f"{pv.grid.width}x{pv.grid.height}",
        "prepare": t_prep,
        "edit": t_prev,
        "edit+png": t_png,
        "full": t_full,
    }


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times: list[float] = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def edits(n: int, repeat: int = 7, encoders: tuple[str, ...] = ("file", "pillow")) -> dict[str, float]:
    """Median ms of the tab's three edits on an n x n canvas, each with the PNG encoding of every
    image it sends: a split edit (depth, test, histogram), a cutoff change (the same three) and a
    region threshold change (regions, overlay on the beauty). ``file``: what the tab sends on
    gradio 3 (our encoder, a file gradio base64s); ``pillow``: gradio's own encoding of an array
    (what the tab sent before), taken in the same rounds."""
    from lib_scene.preview import overlay

    depth, _, index, beauty = scene(n, n)
    hit = ~no_hit_mask(depth)
    for a in (depth, hit, index, beauty):
        a.flags.writeable = False
    cs = CanvasSet("bench", n, n, "plain", depth=depth, hit=hit, beauty=beauty, object_index=index)
    pv = prepare(cs)
    plan0 = auto_plan(depth, hit).set_flag(0, "test", "red")
    lo, hi = cs.depth_range() or (0.0, 1.0)
    fracs = [0.31, 0.47, 0.63, 0.79]
    k = [0]
    from lib_scene.region_labels import region_stats
    from lib_scene.regions import build_regions, paint_mask

    def step() -> float:
        k[0] += 1
        return lo + (hi - lo) * fracs[k[0] % len(fracs)]

    def split_edit(enc: Callable[[NDArray[np.uint8]], int]) -> int:
        r = render_depth(pv, plan0.add_cut(step()), log=True)
        return enc(r.depth) + enc(r.test) + enc(r.histogram)

    def cutoff_edit(enc: Callable[[NDArray[np.uint8]], int]) -> int:
        r = render_depth(pv, plan0.set_cutoff(step()), log=True)
        return enc(r.depth) + enc(r.test) + enc(r.histogram)

    thr = [0.001, 0.01, 0.02]
    stats = region_stats(cs)  # once per camera, as the tab keeps it

    def threshold_edit(enc: Callable[[NDArray[np.uint8]], int]) -> int:
        k[0] += 1
        res = build_regions(cs, threshold=thr[k[0] % len(thr)], stats=stats, grid=(pv.grid.ys, pv.grid.xs))
        mask = paint_mask(res.labels.view(np.uint16), len(res.regions))  # as the tab does
        return enc(overlay(pv.base_image(), mask))

    coders = {"file": file_png, "pillow": pillow_png}
    times: dict[str, list[float]] = {}
    for _ in range(repeat):  # the encoders take turns in every round
        for name, fn in (
            ("split edit", split_edit),
            ("cutoff change", cutoff_edit),
            ("region threshold", threshold_edit),
        ):
            for e in encoders:
                t = time.perf_counter()
                fn(coders[e])
                times.setdefault(name if e == "file" else f"{name} ({e})", []).append(time.perf_counter() - t)
    return {key: float(np.median(v)) * 1e3 for key, v in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="1200,4096")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    print(f"numpy {np.__version__}; best of {a.repeat}; times in ms")
    print(
        f"{'canvas':>10} {'preview':>10} {'prepare':>9} {'edit':>8} {'edit+png':>9} {'full (base)':>12} {'edit/full':>10} {'edit+png/full':>14}"
    )
    for n in (int(s) for s in a.sizes.split(",")):
        r = run(n, a.repeat)
        print(
            f"{n}x{n:<5} {r['preview']:>10} {r['prepare']:>9.1f} {r['edit']:>8.1f} {r['edit+png']:>9.1f} "
            f"{r['full']:>12.1f} {r['edit'] / r['full']:>10.3f} {r['edit+png'] / r['full']:>14.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
