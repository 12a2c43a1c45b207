"""Write the seed corpora of the harnesses (small real files) into tools/fuzz/corpus/<harness>/."""

from __future__ import annotations

import base64
import json
import os
import sys

import _common
import numpy as np

from lib_scene.exr import write_exr

HERE = os.path.dirname(os.path.abspath(__file__))


def _exr_bytes(path: str, parts: dict, compression: str = "ZIP", header: dict | None = None) -> bytes:
    write_exr(path, parts, compression=compression, header=header)
    with open(path, "rb") as fh:
        return fh.read()


def exr_seeds(out: str) -> list[bytes]:
    tmp = os.path.join(_common.SCRATCH, "seed.exr")
    d = np.linspace(1, 5, 8 * 6, dtype=np.float32).reshape(6, 8)
    d[0, 0] = 1e10
    n = np.dstack([d * 0, d * 0, d * 0 + 1]).astype(np.float32)
    seeds = [
        _exr_bytes(tmp, {"Z": d}, "NO"),
        _exr_bytes(tmp, {"Z": d.astype(np.float16)}, "ZIP"),
        _exr_bytes(tmp, {"Y": d}, "RLE"),
        _exr_bytes(tmp, {"R": d, "G": d, "B": d}, "PIZ"),
        _exr_bytes(tmp, {"ViewLayer.Depth.Z": d, "ViewLayer.IndexOB.X": d.round()}, "ZIPS"),
        _exr_bytes(
            tmp,
            {
                "ViewLayer.Depth": {"ViewLayer.Depth.Z": d},
                "ViewLayer.Normal": {f"ViewLayer.Normal.{a}": n[..., i] for i, a in enumerate("XYZ")},
                "ViewLayer.Object Index": {"ViewLayer.Object Index.X": d.round()},
            },
            "ZIP",
        ),
    ]
    # scan-line and tiled parts, several compressions: what lib_scene/exr_parts.py cuts apart
    sys.path.insert(0, os.path.join(_common.ROOT, "tests"))
    from scenes import write_mixed_parts  # type: ignore[import-not-found]

    write_mixed_parts(tmp, width=24, height=12, compressions=("NO", "ZIP", "RLE", "PIZ"))
    with open(tmp, "rb") as fh:
        seeds.append(fh.read())
    for i, s in enumerate(seeds):
        with open(os.path.join(out, f"seed{i}.exr"), "wb") as fh:
            fh.write(s)
    return seeds


def json_seeds(out: str) -> None:
    docs = [
        (
            0,
            {
                "version": 1,
                "cutoff": 9.0,
                "curve": "inverse",
                "splits": [
                    {"start": 1, "end": 4, "levels": 200, "label": "near", "test": "#ff0000", "region": 1},
                    {"start": 4, "end": 9, "levels": 56},
                ],
            },
        ),
        (
            1,
            {
                "mode": "img2img",
                "long_side": 768,
                "depth": {"weight": 0.4},
                "regional.base_ratio": 0.3,
                "splits": {"splits": [{"start": 1, "end": 2, "levels": 10}]},
            },
        ),
        (2, {"seed": 7, "camera": "Cam0", "region_descriptions": {"3": "a sofa"}}),
        (
            3,
            {
                "camera": "Cam0",
                "clip": [0.1, 100.0],
                "resolution": [8, 6],
                "objects": {"Sofa": {"pass_index": 3, "Description": "a grey sofa", "distance": 2.5}},
            },
        ),
        (4, {"objects": {"Chair": {"pass_index": 2, "Description": "a chair"}}}),
    ]
    for i, (sel, doc) in enumerate(docs):
        with open(os.path.join(out, f"seed{i}"), "wb") as fh:
            fh.write(bytes([sel]) + json.dumps(doc).encode())
    with open(os.path.join(out, "seed_text"), "wb") as fh:
        fh.write(bytes([5]) + b"3 = a grey sofa\n# comment\n4 = a lamp\n")
    with open(os.path.join(out, "seed_props"), "wb") as fh:
        fh.write(bytes([6]) + b"objects.0.name=Sofa\nobjects.0.pass_index=3\nobjects.0.Description=a sofa\n")


def upload_seeds(out: str, exrs: list[bytes]) -> None:
    side = json.dumps({"objects": {"Sofa": {"pass_index": 1, "Description": "a sofa"}}}).encode()
    bodies = [
        {"files": [{"name": "Cam0.exr", "data": base64.b64encode(exrs[4]).decode()}]},
        {
            "files": [
                {"name": "Cam0.exr", "data": base64.b64encode(exrs[0]).decode()},
                {"name": "Cam0.json", "data": base64.b64encode(side).decode()},
            ]
        },
        {
            "files": [
                {
                    "name": "r-Canvas1-Depth.exr",
                    "data": "data:application/octet-stream;base64," + base64.b64encode(exrs[2]).decode(),
                }
            ]
        },
        {"files": [{"name": "notes.txt", "data": base64.b64encode(b"3 = a sofa").decode()}]},
    ]
    for i, b in enumerate(bodies):
        with open(os.path.join(out, f"seed{i}.json"), "wb") as fh:
            fh.write(json.dumps(b).encode())


def main() -> int:
    dirs = {k: os.path.join(HERE, "corpus", k) for k in ("exr", "json", "upload")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    exrs = exr_seeds(dirs["exr"])
    json_seeds(dirs["json"])
    upload_seeds(dirs["upload"], exrs)
    print("seeds written under", os.path.join(HERE, "corpus"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
