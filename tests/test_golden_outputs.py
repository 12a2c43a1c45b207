"""Outputs stay bit-identical: digests of the decoded pixels of every depth output on the samples.

The digests in ``golden_outputs.json`` were computed with the code of main before the performance
work of issue 10 (``python tests/test_golden_outputs.py --write`` rewrites them; do that only for
an intended change of output). Issue 14 rewrote the ``.test`` digests only: a split without a
``test`` colour is now painted in a distinct default colour instead of its grey. PNGs are decoded before hashing, so a different PNG compression
level or encoder passes while any changed grey, colour or mask fails.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from lib_scene.canvas import discover, load_camera  # noqa: E402
from lib_scene.cli import main as cli_main  # noqa: E402
from lib_scene.depth import Quantized, auto_plan  # noqa: E402
from lib_scene.imaging import tonemap_srgb  # noqa: E402
from lib_scene.preview import prepare, render_depth  # noqa: E402
from lib_scene.splits import Split, SplitPlan  # noqa: E402

SAMPLES = os.path.join(os.path.dirname(HERE), "samples")
GOLDEN = os.path.join(HERE, "golden_outputs.json")
pytestmark = pytest.mark.skipif(not os.path.isdir(os.path.join(SAMPLES, "room")), reason="no samples")


def digest(arr: np.ndarray) -> str:
    a = np.ascontiguousarray(arr)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()[:24]


def _png_pixels(path: str) -> np.ndarray:
    with open(path, "rb") as fh:
        data = fh.read()
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        arr = np.asarray(img)
        return arr.astype(np.uint16) if img.mode.startswith("I") else arr


def _plans(lo: float, hi: float, auto: SplitPlan) -> dict[str, SplitPlan]:
    """The automatic plan, and hand-made ones with test colours, regions, a 0-level split and a cutoff."""
    span = hi - lo
    cuts = [lo + span * f for f in (0.0, 0.2, 0.35, 0.5, 0.8, 1.0)]
    splits = (
        Split(cuts[0], cuts[1], 90, test="red", region=0),
        Split(cuts[1], cuts[2], 0, region=2),
        Split(cuts[2], cuts[3], 60, test="#00ff80"),
        Split(cuts[3], cuts[4], 80, region=1),
        Split(cuts[4], cuts[5] - span * 0.05, 26, test="blue", region=3),
    )
    flagged = SplitPlan(splits, curve="linear", cutoff=lo + span * 0.9)
    return {
        "auto": auto.set_flag(0, "test", "yellow").set_flag(len(auto.splits) - 1, "region", 0),
        "linear": flagged,
        "inverse": SplitPlan(splits, curve="inverse"),
    }


def _quantized(name: str, cs: object, plan: SplitPlan) -> Iterator[tuple[str, np.ndarray]]:
    q = Quantized.of(cs.depth, cs.hit, plan)  # type: ignore[attr-defined]
    yield f"{name}.grey", q.grey()
    yield f"{name}.test", q.test_rgb()
    yield f"{name}.region_rgb", q.region_rgb()
    yield f"{name}.level_index", q.level_index()
    yield f"{name}.split_labels", q.split_labels()
    yield f"{name}.region_labels", q.region_labels()
    yield f"{name}.counts", q.counts()
    u = q.usage()
    yield f"{name}.usage", np.array([u.allocated, u.used, *np.ravel(u.per_split)], np.int64)


def compute(tmp: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for folder in ("room", "room_daz"):
        for src in discover([os.path.join(SAMPLES, folder)]):
            cs = load_camera(src)
            key = f"{folder}/{cs.camera}"
            assert cs.depth is not None and cs.hit is not None
            out[f"{key}.hit"] = digest(cs.hit)
            auto = auto_plan(cs.depth, cs.hit)
            lo, hi = cs.depth_range() or (0.0, 1.0)
            plans = _plans(lo, hi, auto)
            for pname, plan in plans.items():
                for k, arr in _quantized(f"{key}.{pname}", cs, plan):
                    out[k] = digest(arr)
            pv = prepare(cs, long_side=300)
            r = render_depth(pv, plans["linear"], log=True, unit="m")
            # the histogram plot is left out: its text is drawn by Pillow, which differs between versions
            for k, arr in (("depth", r.depth), ("test", r.test), ("counts", r.counts)):
                out[f"{key}.preview.{k}"] = digest(arr)
            if cs.beauty is not None:
                out[f"{key}.tonemap"] = digest(tonemap_srgb(cs.beauty))
        for k, arr in _cli_outputs(os.path.join(SAMPLES, folder), os.path.join(tmp, folder)):
            out[f"{folder}/cli/{k}"] = digest(arr)
    return out


def _cli_outputs(src: str, dest: str) -> Iterator[tuple[str, np.ndarray]]:
    with open(os.devnull, "w") as null:
        saved, sys.stdout = sys.stdout, null
        try:
            rc = cli_main(["depth", src, "--out", dest, "--16bit"])
        finally:
            sys.stdout = saved
    assert rc == 0
    for name in sorted(os.listdir(dest)):
        yield name, _png_pixels(os.path.join(dest, name))


def test_outputs_match_the_golden_digests(tmp_path):
    with open(GOLDEN, encoding="utf-8") as fh:
        golden = json.load(fh)
    got = compute(str(tmp_path))
    assert sorted(got) == sorted(golden)
    changed = sorted(k for k in golden if got[k] != golden[k])
    assert not changed, f"outputs differ from main's: {changed}"


if __name__ == "__main__" and "--write" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as t:
        res = compute(t)
    with open(GOLDEN, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(f"wrote {len(res)} digests to {GOLDEN}")


def _reference_codes(d: np.ndarray, hit: np.ndarray | None, plan: SplitPlan) -> np.ndarray:
    """main's quantiser before issue 10 (the formula of lib_scene.depth's module doc, per pixel in
    float64), kept here as the reference the faster table-driven one must match bit for bit."""
    starts = np.array([s.start for s in plan.splits], dtype=np.float64)
    ends = np.array([s.end for s in plan.splits], dtype=np.float64)
    levels = np.array([s.levels for s in plan.splits], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(levels)[:-1]))
    idx = np.minimum(np.searchsorted(ends[:-1], d, side="right"), len(starts) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.isfinite(d) & (d <= ends[-1])
        if hit is not None:
            valid &= hit
        if plan.cutoff is not None:
            valid &= d < plan.cutoff
        s = starts[idx]
        d64 = d.astype(np.float64)
        if plan.curve == "inverse":
            t = (1.0 / s - 1.0 / d64) / ((1.0 / s) - (1.0 / ends[idx]))
        else:
            t = (d64 - s) / (ends[idx] - s)
        t = np.nan_to_num(np.clip(t, 0.0, 1.0))
    n = levels[idx]
    lvl = np.minimum(n - 1, np.floor(t * n).astype(np.int64)) + offsets[idx]
    code = np.where(n > 0, lvl, 256 + idx)
    code[~valid] = -1
    return code.astype(np.int16)


@pytest.mark.parametrize("curve", ["linear", "inverse"])
@pytest.mark.parametrize("cutoff", [None, 7.3])
def test_quantiser_matches_the_reference_at_every_edge(curve, cutoff):
    """Depths exactly at, and one float32 step either side of, every boundary, cutoff and level
    threshold, plus NaN, inf, 0 and negatives, with a 0-level split and a zero-width one."""
    from lib_scene.preview import DepthIndex

    bounds = [1.0, 2.3, 2.3000001, 5.7, 9.6]
    splits = tuple(Split(a, b, n) for a, b, n in zip(bounds[:-1], bounds[1:], (100, 0, 56, 100), strict=True))
    plan = SplitPlan(splits, curve=curve, cutoff=cutoff)
    edges = [*bounds, 7.3, 0.5, 12.0]
    for s in splits:  # every level threshold of every split
        j = np.arange(1, max(s.levels, 1)) / max(s.levels, 1)
        if curve == "inverse":
            edges += list(1.0 / (1.0 / s.start - j * (1.0 / s.start - 1.0 / s.end)))
        else:
            edges += list(s.start + (s.end - s.start) * j)
    e32 = np.array(edges, np.float32)
    near = [e32, np.nextafter(e32, np.float32(np.inf)), np.nextafter(e32, np.float32(-np.inf))]
    rng = np.random.default_rng(3)
    # more than 4 blocks, so the quantiser's worker threads share the canvas
    d = np.concatenate([*near, rng.uniform(0, 11, 300_000).astype(np.float32)])
    d = np.concatenate([d, np.array([np.nan, np.inf, -np.inf, 0.0, -2.0, 3.4e38], np.float32)])
    hit = rng.random(d.size) > 0.1
    for h in (None, hit):
        got = Quantized.of(d, h, plan)
        ref = _reference_codes(d, h, plan)
        assert np.array_equal(got.codes, ref)
        assert np.array_equal(
            got.per_code, np.bincount(ref.astype(np.int64) + 1, minlength=got.per_code.size)
        )
    assert DepthIndex.build(d, np.isfinite(d)).total_pixels == d.size
