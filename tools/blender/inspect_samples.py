"""Print what the sample EXRs hold (parts, channels, depth, object indices).

    python tools/blender/inspect_samples.py samples/room [--png /tmp/previews]

Needs numpy + OpenEXR >= 3.3 (``OpenEXR.File``).  With --png, writes a
tone-mapped Combined preview per camera (needs Pillow, optional).
"""

from __future__ import annotations

import argparse
import glob
import json
import os

import numpy as np
import OpenEXR

NO_HIT = 1e9  # Cycles writes 1e10 for background depth


def channels_of(path):
    """{channel name: array} over all parts, plus [(part name, [channels])]."""
    f = OpenEXR.File(path, separate_channels=True)
    chans, layout = {}, []
    for part in f.parts:
        name = part.header.get("name", "")
        layout.append((name, sorted(part.channels)))
        for cname, ch in part.channels.items():
            chans[cname] = ch.pixels
    return chans, layout, f


def find(chans, suffixes):
    for s in suffixes:
        for k in chans:
            if k.endswith(s):
                return k
    return None


def inspect(path, png_dir=None):
    chans, layout, f = channels_of(path)
    print(f"== {path}  ({os.path.getsize(path) / 1e6:.2f} MB, {len(layout)} part(s))")
    h0 = f.parts[0].header
    print(f"   compression={h0.get('compression')}  dataWindow={h0.get('dataWindow')}")
    for pname, cl in layout:
        print(f"   part {pname!r}: " + ", ".join(f"{c} {chans[c].dtype}{chans[c].shape}" for c in cl))
    side = os.path.splitext(path)[0] + ".json"
    meta = json.load(open(side)) if os.path.exists(side) else None
    names = {}
    if meta:
        for oname, o in meta["objects"].items():
            names.setdefault(o["pass_index"], []).append(oname)
    z = chans[find(chans, [".Depth.Z", ".Z", "Y"])]
    hit = z < NO_HIT
    print(
        f"   depth: min {z[hit].min():.3f}  median {np.median(z[hit]):.3f}  max(hit) {z[hit].max():.3f}  "
        f"no-hit pixels {int((~hit).sum())} (value {np.unique(z[~hit])[:3]})"
    )
    ik = find(chans, [".Object Index.X", ".IndexOB.X"])
    if ik:
        idx = chans[ik]
        assert np.all(idx == np.round(idx)), "object index not integral"
        vals, counts = np.unique(idx.astype(np.int32), return_counts=True)
        total = idx.size
        for v, c in zip(vals, counts, strict=False):
            m = idx == v
            med = np.median(z[m & hit]) if (m & hit).any() else float("nan")
            label = ",".join(names.get(int(v), ["(none)"]))
            print(f"   index {v:3d} {label:22s} {c:7d} px {100 * c / total:6.2f}%  median depth {med:.3f}")
        if meta:
            missing = sorted(set(names) - set(int(v) for v in vals))
            print(f"   described but NOT visible: {[(i, names[i]) for i in missing]}")
    nk = find(chans, [".Normal.X"])
    if nk:
        n = np.stack([chans[nk], chans[nk[:-1] + "Y"], chans[nk[:-1] + "Z"]], -1)
        ln = np.linalg.norm(n, axis=-1)
        print(
            f"   normal length on hits: min {ln[hit].min():.3f} median {np.median(ln[hit]):.3f}; "
            f"on no-hit max {ln[~hit].max() if (~hit).any() else 0:.3f}"
        )
    if png_dir:
        rk = find(chans, [".Combined.R", "R"])
        pre = rk[:-1]
        rgb = np.stack([chans[pre + c] for c in "RGB"], -1).astype(np.float32)
        srgb = np.where(
            rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.power(np.clip(rgb, 0, None), 1 / 2.4) - 0.055
        )
        img = (np.clip(srgb, 0, 1) * 255 + 0.5).astype(np.uint8)
        from PIL import Image

        os.makedirs(png_dir, exist_ok=True)
        out = os.path.join(png_dir, os.path.basename(path)[:-4] + ".png")
        Image.fromarray(img).save(out)
        print(f"   preview -> {out}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--png", default="")
    a = p.parse_args()
    for path in sorted(glob.glob(os.path.join(a.folder, "*.exr"))):
        inspect(path, a.png or None)


if __name__ == "__main__":
    main()
