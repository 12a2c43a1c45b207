"""Benchmark: region-mask building against a baseline measured in the same run.

    python bench/bench_regions.py [--sizes 1200,4096] [--repeat 3] [--objects 40]

For each size it makes a canvas in memory the way a render gives it (a CanvasSet with an object
index pass of ``--objects`` rectangles and ellipses over a background, a depth pass and a
sidecar with descriptions) and times, best of N:

* baseline: ``np.unique(index, return_counts=True)`` over the index pass, the least any tool
  that counts pixels per object does (the seed's per-index pixel count);
* regions: :func:`lib_scene.regions.build_regions` with the defaults (coverage, visibility,
  median depth per region, nearest-first order, RP colours, 1 px seam growth);
* regions, grow 0, and regions without opencv (numpy fallback for the 3x3 dilation);
* AOV source: the same canvas as a pixel-filtered Value AOV (antialiased edges), cleaned with
  opencv's labelled distance transform and with the numpy fallback.

It prints seconds and the ratio to the baseline. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import best

from lib_scene import region_labels as RL
from lib_scene import regions as R
from lib_scene.canvas import CanvasSet


def make_canvas(n: int, objects: int, seed: int = 0) -> CanvasSet:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) / n
    index = np.zeros((n, n), np.float32)
    depth = (4.0 + 6.0 * (1 - ys)).astype(np.float32)  # floor-like gradient
    index[ys > 0.6] = 1  # floor
    sidecar_objects = {"Floor": {"pass_index": 1, "Description": "a wooden floor"}}
    for k in range(2, objects + 2):
        cy, cx = rng.random(2)
        ry, rx = 0.02 + 0.12 * rng.random(2)
        d = float(1.0 + 9.0 * rng.random())
        if k % 2:
            m = (np.abs(ys - cy) < ry) & (np.abs(xs - cx) < rx)
        else:
            m = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 < 1
        m &= depth > d  # nearer objects occlude farther ones
        index[m] = k
        depth[m] = d
        sidecar_objects[f"Obj{k}"] = {"pass_index": k, "Description": f"object number {k}"}
    hit = np.ones((n, n), bool)
    sky = (ys < 0.1) & (index == 0)
    depth[sky] = 1e10
    hit[sky] = False
    for a in (index, depth, hit):
        a.flags.writeable = False
    return CanvasSet(
        camera=f"bench{n}",
        width=n,
        height=n,
        layout="blender5",
        depth=depth,
        hit=hit,
        object_index=index,
        sidecar={"camera": f"bench{n}", "objects": sidecar_objects},
    )


def blur_edges(index: NDArray[np.float32]) -> NDArray[np.float32]:
    """A pixel-filtered AOV: every pixel whose right neighbour differs is a 50/50 blend with it,
    every pixel whose lower neighbour differs a 62.5/37.5 blend."""
    v = index.astype(np.float32).copy()
    right = np.zeros_like(v, bool)
    right[:, :-1] = index[:, :-1] != index[:, 1:]
    v[:, :-1][right[:, :-1]] = 0.5 * (index[:, :-1] + index[:, 1:])[right[:, :-1]]
    down = np.zeros_like(v, bool)
    down[:-1] = (index[:-1] != index[1:]) & ~right[:-1]
    v[:-1][down[:-1]] = (0.625 * index[:-1] + 0.375 * index[1:])[down[:-1]]
    return v


def run_size(n: int, objects: int, repeat: int) -> None:
    cs = make_canvas(n, objects)
    aov = blur_edges(np.asarray(cs.object_index))
    aov.flags.writeable = False
    cs_aov = CanvasSet(
        camera=cs.camera,
        width=n,
        height=n,
        layout="blender5",
        depth=cs.depth,
        hit=cs.hit,
        aovs={"IndexAOV": aov},
        sidecar=cs.sidecar,
    )
    res = R.build_regions(cs)
    obj = np.asarray(cs.object_index)
    base = best(lambda: np.unique(obj, return_counts=True), repeat)
    cases = [
        ("build_regions (index, grow 1)", lambda: R.build_regions(cs), False),
        ("build_regions (index, grow 0)", lambda: R.build_regions(cs, grow=0), False),
        ("build_regions (aov:IndexAOV, grow 1)", lambda: R.build_regions(cs_aov), False),
        ("build_regions (index, grow 1, no opencv)", lambda: R.build_regions(cs), True),
        ("build_regions (aov:IndexAOV, no opencv)", lambda: R.build_regions(cs_aov), True),
    ]
    rows = [("baseline np.unique(index, return_counts)", base)]
    saved = RL.cv2_or_none
    for name, fn, no_cv in cases:
        RL.cv2_or_none = (lambda: None) if no_cv else saved
        try:
            rows.append((name, best(fn, repeat)))
        finally:
            RL.cv2_or_none = saved
    blend = int((np.abs(aov - np.rint(aov)) > 0.01).sum())
    print(
        f"\n{n}x{n}: {len(res.regions)} regions visible of {objects + 1} objects; "
        f"AOV has {blend} blended pixels ({100 * blend / aov.size:.2f}%)"
    )
    for name, t in rows:
        print(f"  {name:<44} {t:8.3f} s   x{t / base:5.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1200,4096")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--objects", type=int, default=40)
    args = ap.parse_args(argv)
    cv2: Any = RL.cv2_or_none()
    print(f"numpy {np.__version__}, opencv {'absent' if cv2 is None else cv2.__version__}")
    for n in (int(s) for s in args.sizes.split(",")):
        run_size(n, args.objects, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
