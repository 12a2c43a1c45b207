"""FAKES of ``lib_scene.regions`` and ``lib_scene.normals`` (issues 3 and 4), for plan tests only.

They implement the interface names from notes/HELPERS.md in the simplest honest way (object index
pass -> regions nearest first; camera-space normals -> bae colours) so the plan can be tested before
the real modules are merged. ``install(monkeypatch)`` puts them in ``sys.modules``; tests that need
the real modules use ``pytest.importorskip`` instead and never use these.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np

from lib_scene.errors import CanvasError
from lib_scene.palette import region_color


@dataclass(frozen=True)
class Region:
    number: int
    color: tuple[int, int, int]
    indices: tuple[int, ...]
    objects: tuple[str, ...]
    description: str | None
    coverage: float
    median_depth: float | None


@dataclass(frozen=True)
class RegionResult:
    mask: np.ndarray
    regions: list
    warnings: list

    def table(self):
        return [r.__dict__ for r in self.regions]


@dataclass(frozen=True)
class PromptResult:
    text: str
    sections: list
    warnings: list


def _descriptions(cs):
    out = {}
    for name, obj in ((cs.sidecar or {}).get("objects") or {}).items():
        out.setdefault(int(obj["pass_index"]), (obj.get("Description"), []))[1].append(name)
    return out


def build_regions(cs, descriptions=None, source="auto", threshold=0.005, order="depth", grow=1, splits=None):
    if cs.object_index is None:
        return RegionResult(np.zeros((cs.height, cs.width, 3), np.uint8), [], ["no index pass"])
    ids = np.rint(cs.object_index).astype(np.int64)
    ids = np.where(cs.hit, ids, 0)
    desc = _descriptions(cs)
    found = []
    for i in np.unique(ids):
        if i <= 0:
            continue
        sel = ids == i
        cov = sel.sum() / sel.size
        if cov > threshold:
            found.append((float(np.median(cs.depth[sel])), int(i), float(cov)))
    found.sort()
    mask = np.zeros((cs.height, cs.width, 3), np.uint8)
    regions = []
    for k, (med, i, cov) in enumerate(found):
        mask[ids == i] = region_color(k)
        d, names = desc.get(i, (None, []))
        regions.append(Region(k, region_color(k), (i,), tuple(names), d, cov, med))
    return RegionResult(mask, regions, [])


def sanitize_description(text):
    return " ".join(str(text).split())


def build_prompt(base, regions, form="regional"):
    secs = [r.description or "" for r in regions]
    if form == "flat":
        return PromptResult(", ".join([base, *secs]), secs, [])
    return PromptResult(" BREAK ".join([base, *secs]), secs, [])


def normal_map(cs, convention="bae", sidecar=None, fill=(0.0, 0.0, 1.0)):
    n = np.asarray(cs.normal, np.float64)
    if cs.normal_space == "world":
        side = sidecar or cs.sidecar
        if not side or "matrix_world" not in side:
            raise CanvasError("world-space normals need the camera matrix_world (a <stem>.json sidecar)")
        m = np.asarray(side["matrix_world"], np.float64)[:3, :3]
        n = n @ m  # world -> camera: R^T n, row vectors
    ln = np.linalg.norm(n, axis=-1, keepdims=True)
    n = np.where(ln > 1e-6, n / np.maximum(ln, 1e-12), np.array(fill))
    enc = np.stack([-n[..., 0], n[..., 1], n[..., 2]], -1)
    rgb = np.clip(np.rint((enc + 1) / 2 * 255), 0, 255).astype(np.uint8)
    return rgb[..., ::-1].copy() if convention == "midas" else rgb


def install(monkeypatch) -> None:
    regions = types.ModuleType("lib_scene.regions")
    regions.__doc__ = "FAKE lib_scene.regions (tests/fake_scene.py)"
    for name in (
        "Region",
        "RegionResult",
        "PromptResult",
        "build_regions",
        "sanitize_description",
        "build_prompt",
    ):
        setattr(regions, name, globals()[name])
    normals = types.ModuleType("lib_scene.normals")
    normals.__doc__ = "FAKE lib_scene.normals (tests/fake_scene.py)"
    normals.normal_map = normal_map
    monkeypatch.setitem(__import__("sys").modules, "lib_scene.regions", regions)
    monkeypatch.setitem(__import__("sys").modules, "lib_scene.normals", normals)
