"""Render canvases of one camera: discovery, layout detection, no-hit handling.

Layouts read:

* **Blender 5.x** multi-part EXR, one part per pass: ``<Layer>.Depth.Z``, ``<Layer>.Normal.X/Y/Z``,
  ``<Layer>.Object Index.X``, ``<Layer>.Material Index.X``, ``<Layer>.Combined.R/G/B/A``.
* **Blender 4.x** single-part multilayer EXR (``<Layer>.IndexOB.X``, ``<Layer>.IndexMA.X``).
  The view-layer name is the user's.
* **Daz Studio Iray canvases**: one file per canvas named ``<stem>-Canvas<N>-<Kind>.exr``;
  depth is a single ``Y`` channel in centimetres, normals are camera space.
* Plain EXRs: ``R,G,B[,A]`` beauty and ``Z`` depth.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from .errors import CanvasError
from .exr import ExrImage, read_exr, read_header
from .jsonio import load_json_file
from .sidecar import far_clip, sidecar_notes

#: Depth at or above this is a renderer's "no hit" (Cycles writes 1e10, Iray ~3.4e38).
NO_HIT_FAR = 1.0e9
#: Largest finite half value: a half depth channel saturates here for the background.
HALF_MAX = 65504.0

DAZ_NAME = re.compile(r"^(?P<stem>.+?)-Canvas(?P<n>\d+)-(?P<kind>[^.]+)\.exr$", re.IGNORECASE)

_DEPTH_PASSES = {"depth", "z"}
_NORMAL_PASSES = {"normal", "normals", "n"}
_OBJECT_PASSES = {"indexob", "objectindex"}
_MATERIAL_PASSES = {"indexma", "materialindex"}
_BEAUTY_PASSES = {"combined", "image", "rgba", "beauty", "composite"}
_DAZ_KINDS = {
    "depth": "depth",
    "distance": "distance",
    "normal": "normal",
    "normals": "normal",
    "beauty": "beauty",
    "objectid": "object",
    "materialid": "material",
}


def _norm(s: str) -> str:
    return re.sub(r"[\s_\-]", "", s).lower()


@dataclass(frozen=True)
class CanvasSet:
    """Everything rendered for one camera. Arrays are read-only; nothing here is ever mutated.

    ``depth`` keeps the file's values (scene units; centimetres for Daz). ``hit`` is False where
    the renderer hit nothing (see :func:`no_hit_mask`). ``normal`` is (H, W, 3) in
    ``normal_space`` ("world" for Blender's Normal pass, "camera" for Daz / camera AOVs).
    """

    camera: str
    width: int
    height: int
    layout: str  # "blender5" | "blender4" | "daz" | "plain"
    depth: np.ndarray | None = None
    hit: np.ndarray | None = None
    depth_unit: str = "scene"  # "scene" (Blender units, usually metres) or "cm" (Daz)
    depth_kind: str = "planar"  # "planar" or "distance" (radial)
    normal: np.ndarray | None = None
    normal_space: str | None = None
    beauty: np.ndarray | None = None  # (H, W, 3|4) linear float
    object_index: np.ndarray | None = None  # (H, W) float32 as stored
    material_index: np.ndarray | None = None
    aovs: dict[str, np.ndarray] = field(default_factory=dict)  # other passes by name
    header: dict = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # canvas kind -> file path
    channels: dict[str, list[str]] = field(default_factory=dict)  # file path -> channel names
    layer: str = ""
    sidecar: dict | None = None
    sidecar_path: str | None = None
    warnings: tuple[str, ...] = ()  # honest notes about the inputs (ignored sidecar fields, ...)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def passes(self) -> list[str]:
        """The canvases this camera holds, by kind (AOVs not included)."""
        return [
            k
            for k, v in (
                ("depth", self.depth),
                ("normal", self.normal),
                ("beauty", self.beauty),
                ("object index", self.object_index),
                ("material index", self.material_index),
            )
            if v is not None
        ]

    @property
    def no_hit_count(self) -> int:
        return 0 if self.hit is None else int(self.hit.size - np.count_nonzero(self.hit))

    def depth_range(self) -> tuple[float, float] | None:
        """(min, max) over hit pixels, or None without depth or hits."""
        if self.depth is None or self.hit is None or not self.hit.any():
            return None
        d = self.depth[self.hit]
        return float(d.min()), float(d.max())

    def require_depth(self) -> np.ndarray:
        if self.depth is None:
            raise CanvasError(f"camera {self.camera!r} has no depth canvas", self.primary_path)
        return self.depth

    @property
    def primary_path(self) -> str | None:
        return next(iter(self.sources.values()), None)


def no_hit_mask(depth: np.ndarray, half: bool = False, far_clip: float | None = None) -> np.ndarray:
    """True where the renderer hit nothing.

    No hit: NaN, +-inf, depth <= 0, depth >= 1e9 (Cycles' 1e10, Iray's float max), half's 65504
    (exactly, or anything at or above it in a half channel), and depth at or beyond EEVEE's clip
    end when ``far_clip`` is known (EEVEE writes the clip end, e.g. 100.0025 for 100).
    """
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(depth) | (depth <= 0) | (depth >= NO_HIT_FAR) | (depth == np.float32(HALF_MAX))
        if half:
            bad |= depth >= HALF_MAX
        if far_clip is not None and far_clip > 0:
            bad |= depth >= np.float32(far_clip * (1 - 1e-5))
    return bad


def _ro(a: np.ndarray | None) -> np.ndarray | None:
    if a is not None:
        a.flags.writeable = False
    return a


def _split_name(name: str) -> tuple[str, str, str]:
    """'View.Layer.Depth.Z' -> ('View.Layer', 'Depth', 'Z'); 'Depth.Z' -> ('', 'Depth', 'Z'); 'R' -> ('', '', 'R')."""
    bits = name.split(".")
    if len(bits) >= 3:
        return ".".join(bits[:-2]), bits[-2], bits[-1]
    if len(bits) == 2:
        return "", bits[0], bits[1]
    return "", "", name


def _stack(img: ExrImage, names: list[str]) -> np.ndarray:
    return np.stack([img.channels[n].pixels for n in names], axis=-1)


def _pick(passes: dict[str, dict[str, str]], keys: set[str]) -> tuple[str, dict[str, str]] | None:
    for pname, chans in passes.items():
        if _norm(pname) in keys:
            return pname, chans
    return None


def _vector(chans: dict[str, str], img: ExrImage, path: str, what: str) -> np.ndarray:
    for axes in (("X", "Y", "Z"), ("R", "G", "B"), ("x", "y", "z"), ("r", "g", "b")):
        if all(a in chans for a in axes):
            return _stack(img, [chans[a] for a in axes])
    raise CanvasError(f"{what} pass has channels {sorted(chans)}; expected X,Y,Z or R,G,B", path)


def _colour(chans: dict[str, str], img: ExrImage) -> np.ndarray | None:
    for axes in (("R", "G", "B", "A"), ("R", "G", "B"), ("r", "g", "b", "a"), ("r", "g", "b")):
        if all(a in chans for a in axes):
            return _stack(img, [chans[a] for a in axes])
    return None


def _scalar(chans: dict[str, str], img: ExrImage) -> tuple[np.ndarray, bool] | None:
    for c in ("Z", "V", "X", "Y", "R", "z", "v", "x", "y", "r"):
        if c in chans:
            ch = img.channels[chans[c]]
            return ch.pixels, ch.half
    if len(chans) == 1:
        ch = img.channels[next(iter(chans.values()))]
        return ch.pixels, ch.half
    return None


def _layers(img: ExrImage) -> dict[str, dict[str, dict[str, str]]]:
    """layer -> pass -> short channel -> full channel name."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for full in img.channels:
        layer, pname, chan = _split_name(full)
        out.setdefault(layer, {}).setdefault(pname, {})[chan] = full
    return out


def load_sidecar(path: str) -> dict:
    data = load_json_file(path, "sidecar", error=CanvasError)
    if not isinstance(data, dict):
        raise CanvasError("sidecar must hold a JSON object", path)
    return data


def _find_sidecar(exr_path: str, stem: str) -> str | None:
    cand = os.path.join(os.path.dirname(exr_path), stem + ".json")
    return cand if os.path.isfile(cand) else None


def load_multilayer(path: str, layer: str | None = None, sidecar: str | None = None) -> CanvasSet:
    """Load a Blender (4.x single-part or 5.x multi-part) or plain EXR as one camera."""
    path = os.fspath(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    img = read_exr(path)
    layers = _layers(img)
    if layer is None:
        # the first layer holding a depth pass, else the first with anything recognisable
        named = [n for n in layers if n]
        candidates = named + ([""] if "" in layers else [])
        layer = next((n for n in candidates if _pick(layers[n], _DEPTH_PASSES)), None)
        if layer is None:
            layer = candidates[0]
    elif layer not in layers:
        raise CanvasError(f"no view layer {layer!r}; the file has {sorted(n for n in layers if n)}", path)
    passes = layers[layer]
    top = layers.get("", {}).get("", {}) if layer else passes.get("", {})

    side_path = sidecar or _find_sidecar(path, stem)
    side = load_sidecar(side_path) if side_path else None

    depth = half = None
    depth_pass = _pick(passes, _DEPTH_PASSES)
    if depth_pass:
        got = _scalar(depth_pass[1], img)
        if got:
            depth, half = got
    elif "Z" in top:
        depth, half = img.channels[top["Z"]].pixels, img.channels[top["Z"]].half
    elif set(top) == {"Y"}:  # a lone Y channel: a Daz depth canvas saved under another name
        depth, half = img.channels[top["Y"]].pixels, img.channels[top["Y"]].half

    normal = None
    normal_pass = _pick(passes, _NORMAL_PASSES)
    if normal_pass:
        normal = _vector(normal_pass[1], img, path, "Normal")

    beauty = None
    beauty_pass = _pick(passes, _BEAUTY_PASSES)
    if beauty_pass:
        beauty = _colour(beauty_pass[1], img)
    if beauty is None:
        beauty = _colour(top, img)

    def index(keys: set[str]) -> np.ndarray | None:
        found = _pick(passes, keys)
        got = _scalar(found[1], img) if found else None
        return got[0] if got else None

    known = _DEPTH_PASSES | _NORMAL_PASSES | _OBJECT_PASSES | _MATERIAL_PASSES | _BEAUTY_PASSES | {""}
    aovs: dict[str, np.ndarray] = {}
    for pname, chans in passes.items():
        if _norm(pname) in known:
            continue
        got = _scalar(chans, img) if len(chans) == 1 else None
        if got is not None:
            aovs[pname] = got[0]
        else:
            vec = None
            for axes in (("X", "Y", "Z"), ("R", "G", "B")):
                if all(a in chans for a in axes):
                    vec = _stack(img, [chans[a] for a in axes])
                    break
            if vec is not None:
                aovs[pname] = vec

    multi = len(img.parts) > 1
    if layer or multi:
        layout = "blender5" if multi else "blender4"
    else:
        layout = "plain"
    hit = None
    if depth is not None:
        hit = ~no_hit_mask(depth, bool(half), far_clip(side))
    sources = {
        k: path for k, v in (("depth", depth), ("normal", normal), ("beauty", beauty)) if v is not None
    }
    return CanvasSet(
        camera=stem,
        width=img.width,
        height=img.height,
        layout=layout,
        depth=depth,
        hit=_ro(hit),
        normal=_ro(normal),
        normal_space="world"
        if normal is not None and layout != "plain"
        else ("camera" if normal is not None else None),
        beauty=_ro(beauty),
        object_index=index(_OBJECT_PASSES),
        material_index=index(_MATERIAL_PASSES),
        aovs={k: _ro(v) for k, v in aovs.items()},
        header=img.header,
        sources=sources or {"file": path},
        channels={path: list(img.channels)},
        layer=layer,
        sidecar=side,
        sidecar_path=side_path,
        warnings=tuple(sidecar_notes(side, img.width, img.height, side_path)),
    )


def load_daz(stem: str, files: dict[str, str], sidecar: str | None = None) -> CanvasSet:
    """Load one Daz render: ``files`` maps canvas kind (depth, normal, beauty, ...) to a path."""
    images: dict[str, ExrImage] = {}
    # refuse mismatched sizes from the headers alone, before decoding any pixels
    sizes: dict[str, tuple[int, int]] = {}
    for path in files.values():
        hdr = read_header(path)[0]
        x0, y0, x1, y1 = (int(v) for v in (*hdr["displayWindow"][0], *hdr["displayWindow"][1]))
        sizes[path] = (x1 - x0 + 1, y1 - y0 + 1)
    if len(set(sizes.values())) > 1:
        desc = ", ".join(f"{os.path.basename(p)} is {w}x{h}" for p, (w, h) in sizes.items())
        raise CanvasError(f"canvases of camera {stem!r} differ in size: {desc}", next(iter(files.values())))
    for kind, path in files.items():
        images[kind] = read_exr(path)
    first = next(iter(images.values()))
    side_path = sidecar or _find_sidecar(first.path, stem)
    side = load_sidecar(side_path) if side_path else None

    depth = half = None
    depth_kind = "planar"
    for kind in ("depth", "distance"):
        if kind in images:
            img = images[kind]
            got = _depth_channel(img)
            if got is None:
                raise CanvasError(
                    f"a {kind} canvas needs one depth channel (Y or Z); this file has channels "
                    f"{', '.join(sorted(img.channels))}: is it another canvas (beauty, normal) named as {kind}?",
                    img.path,
                )
            depth, half = got
            depth_kind = "planar" if kind == "depth" else "distance"
            break
    normal = None
    if "normal" in images:
        img = images["normal"]
        normal = _vector({n.split(".")[-1]: n for n in img.channels}, img, img.path, "Normal canvas")
    beauty = None
    if "beauty" in images:
        img = images["beauty"]
        beauty = _colour({n.split(".")[-1]: n for n in img.channels}, img)
        if beauty is None:
            raise CanvasError(f"beauty canvas has channels {sorted(img.channels)}; expected R,G,B", img.path)
    obj = None
    if "object" in images:
        img = images["object"]
        obj = _ids_from_colours(img)
    mat = None
    if "material" in images:
        mat = _ids_from_colours(images["material"])
    hit = ~no_hit_mask(depth, bool(half), far_clip(side)) if depth is not None else None
    merged: dict = {}
    for img in images.values():
        for k, v in img.header.items():
            merged.setdefault(k, v)
    return CanvasSet(
        camera=stem,
        width=first.width,
        height=first.height,
        layout="daz",
        depth=depth,
        hit=_ro(hit),
        depth_unit="cm",
        depth_kind=depth_kind,
        normal=_ro(normal),
        normal_space="camera" if normal is not None else None,
        beauty=_ro(beauty),
        object_index=_ro(obj),
        material_index=_ro(mat),
        header=merged,
        sources={k: v.path for k, v in images.items()},
        channels={v.path: list(v.channels) for v in images.values()},
        sidecar=side,
        sidecar_path=side_path,
        warnings=tuple(sidecar_notes(side, first.width, first.height, side_path)),
    )


def _depth_channel(img: ExrImage) -> tuple[np.ndarray, bool] | None:
    """A Daz depth/distance canvas: its Y (or Z) channel, or its only channel; None otherwise."""
    names = {n.split(".")[-1]: n for n in img.channels}
    for c in ("Y", "Z"):
        if c in names:
            ch = img.channels[names[c]]
            return ch.pixels, ch.half
    if len(names) == 1:
        ch = img.channels[next(iter(names.values()))]
        return ch.pixels, ch.half
    return None


def _ids_from_colours(img: ExrImage) -> np.ndarray:
    """Daz Object/Material Id canvases hold one colour per object: turn colours into ids 1..K (0 = black)."""
    names = {n.split(".")[-1]: n for n in img.channels}
    col = _colour(names, img)
    if col is None:
        got = _scalar(names, img)
        if got is None:
            raise CanvasError("id canvas has no usable channels", img.path)
        return got[0]
    rgb = np.ascontiguousarray(col[..., :3], dtype=np.float32)
    flat = rgb.reshape(-1, 3)
    uniq, inv = np.unique(flat, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    black = np.flatnonzero(~uniq.any(axis=1))
    ids = inv.astype(np.float32) + 1
    if black.size:
        b = black[0]
        ids = np.where(inv == b, 0, np.where(inv > b, inv, inv + 1)).astype(np.float32)
    return ids.reshape(rgb.shape[:2])


@dataclass(frozen=True)
class CameraSource:
    """Where one camera's canvases are; cheap to build, loaded by :func:`load_camera`."""

    camera: str
    layout: str  # "daz" or "exr"
    files: dict[str, str]  # kind -> path ("file" for a single multilayer EXR)

    def load(self, layer: str | None = None) -> CanvasSet:
        return load_camera(self, layer=layer)


def _daz_kind(kind: str) -> str | None:
    return _DAZ_KINDS.get(_norm(kind))


def discover(paths: list[str] | str) -> list[CameraSource]:
    """Find cameras in files and folders. Daz canvases are grouped by render stem."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [os.fspath(paths)]
    files: list[str] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            files.extend(
                os.path.join(p, n)
                for n in sorted(os.listdir(p))
                if n.lower().endswith(".exr") and not n.startswith(".")
            )
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise CanvasError("no such file or folder", p)
    if not files:
        raise CanvasError("no .exr files found", paths[0] if paths else None)
    cams: dict[str, CameraSource] = {}
    daz: dict[tuple[str, str], dict[str, str]] = {}
    for f in files:
        m = DAZ_NAME.match(os.path.basename(f))
        kind = _daz_kind(m.group("kind")) if m else None
        if m and kind:
            group = daz.setdefault((os.path.dirname(f), m.group("stem")), {})
            if kind in group:
                raise CanvasError(
                    f"two {kind} canvases for render {m.group('stem')!r}: {os.path.basename(group[kind])} and "
                    f"{os.path.basename(f)}",
                    f,
                )
            group[kind] = f
        elif m:
            continue  # a Daz canvas of a kind we do not use (e.g. Diffuse); ignore it
        else:
            name = os.path.splitext(os.path.basename(f))[0]
            _unique(cams, name, f)
            cams[name] = CameraSource(camera=name, layout="exr", files={"file": f})
    for (_, stem), group in daz.items():
        _unique(cams, stem, next(iter(group.values())))
        cams[stem] = CameraSource(camera=stem, layout="daz", files=group)
    return sorted(cams.values(), key=lambda c: c.camera)


def _unique(cams: dict[str, CameraSource], name: str, path: str) -> None:
    """Cameras are unique by name within one run: their outputs are named after them."""
    if name in cams:
        other = next(iter(cams[name].files.values()))
        raise CanvasError(
            f"two cameras are named {name!r} ({other} and {path}); their outputs would overwrite each "
            "other: give one folder at a time or rename one",
            path,
        )


def load_camera(src: CameraSource, layer: str | None = None) -> CanvasSet:
    if src.layout == "daz":
        return load_daz(src.camera, src.files)
    return load_multilayer(src.files["file"], layer=layer)


def load_cameras(paths: list[str] | str) -> list[CanvasSet]:
    return [load_camera(s) for s in discover(paths)]
