"""Outputs stay bit-identical: digests of the decoded pixels of every depth output on the samples.

The digests in ``golden_outputs.json`` were computed with the code of main before the performance
work of issue 10 (``python tests/test_golden_outputs.py --write`` rewrites them; do that only for
an intended change of output). PNGs are decoded before hashing, so a different PNG compression
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
