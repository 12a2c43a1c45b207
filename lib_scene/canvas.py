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

import dataclasses
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .cryptomatte import CryptoLayer, find_layers
from .errors import CanvasError
from .exr import ExrImage, read_exr, read_header
from .frames import (
    Sequence_,
    expand_pattern,
    frame_sidecar,
    group_sequences,
    is_pattern,
    parse_frames,
    select_frames,
)
from .jsonio import load_json_file
from .sidecar import far_clip, sidecar_notes

_T = TypeVar("_T", bound=np.generic)

FloatArray = NDArray[np.float32]
BoolArray = NDArray[np.bool_]
Passes = dict[str, dict[str, str]]  # pass -> short channel name -> full channel name

#: The canvas kinds a loader assembles; ``need=`` picks some (a command that uses only depth
#: never converts or stacks the beauty, normal or index passes).
KINDS = frozenset({"depth", "normal", "beauty", "object", "material", "aovs", "cryptomatte"})

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
    depth: NDArray[Any] | None = None
    hit: NDArray[Any] | None = None
    depth_unit: str = "scene"  # "scene" (Blender units, usually metres) or "cm" (Daz)
    depth_kind: str = "planar"  # "planar" or "distance" (radial)
    normal: NDArray[Any] | None = None
    normal_space: str | None = None
    beauty: NDArray[Any] | None = None  # (H, W, 3|4) linear float
    object_index: NDArray[Any] | None = None  # (H, W) float32 as stored
    material_index: NDArray[Any] | None = None
    aovs: dict[str, NDArray[Any]] = field(default_factory=dict)  # other passes by name
    cryptomatte: dict[str, CryptoLayer] = field(default_factory=dict)  # layer name -> ranks + manifest
    header: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # canvas kind -> file path
    channels: dict[str, list[str]] = field(default_factory=dict)  # file path -> channel names
    layer: str = ""
    sidecar: dict[str, Any] | None = None
    sidecar_path: str | None = None
    frame: int | None = None  # the frame number of a sequence camera (lib_scene.frames), else None
    warnings: tuple[str, ...] = ()  # honest notes about the inputs (ignored sidecar fields, ...)

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def out_stem(self) -> str:
        """The output file stem: ``Cam0``, or ``Cam0.0001`` for a sequence's frame."""
        return self.camera if self.frame is None else f"{self.camera}.{self.frame:04d}"

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
        ] + [f"cryptomatte {name}" for name in self.cryptomatte]

    @property
    def no_hit_count(self) -> int:
        return 0 if self.hit is None else int(self.hit.size - np.count_nonzero(self.hit))

    def depth_range(self) -> tuple[float, float] | None:
        """(min, max) over hit pixels, or None without depth or hits."""
        if self.depth is None or self.hit is None or not self.hit.any():
            return None
        d = self.depth[self.hit]
        return float(d.min()), float(d.max())

    def require_depth(self) -> NDArray[Any]:
        if self.depth is None:
            raise CanvasError(f"camera {self.camera!r} has no depth canvas", self.primary_path)
        return self.depth

    @property
    def primary_path(self) -> str | None:
        return next(iter(self.sources.values()), None)


def no_hit_mask(depth: NDArray[Any], half: bool = False, far_clip: float | None = None) -> NDArray[Any]:
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
    return np.asarray(bad, dtype=np.bool_)


def _ro(a: NDArray[_T] | None) -> NDArray[_T] | None:
    if a is not None:
        a.flags.writeable = False
    return a


def _ro_array(a: NDArray[_T]) -> NDArray[_T]:
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


def _stack(img: ExrImage, names: list[str]) -> NDArray[Any]:
    """The channels as one (H, W, C) array; their own decoded copies are freed afterwards (an
    8192² normal pass is 805 MB a copy)."""
    out = np.stack([img.channels[n].pixels for n in names], axis=-1)
    for n in names:
        img.channels[n].release()
    return out


def _pick(passes: dict[str, dict[str, str]], keys: set[str]) -> tuple[str, dict[str, str]] | None:
    for pname, chans in passes.items():
        if _norm(pname) in keys:
            return pname, chans
    return None


def _vector(chans: dict[str, str], img: ExrImage, path: str, what: str) -> NDArray[Any]:
    for axes in (("X", "Y", "Z"), ("R", "G", "B"), ("x", "y", "z"), ("r", "g", "b")):
        if all(a in chans for a in axes):
            return _stack(img, [chans[a] for a in axes])
    raise CanvasError(f"{what} pass has channels {sorted(chans)}; expected X,Y,Z or R,G,B", path)


def _colour(chans: dict[str, str], img: ExrImage) -> NDArray[Any] | None:
    for axes in (("R", "G", "B", "A"), ("R", "G", "B"), ("r", "g", "b", "a"), ("r", "g", "b")):
        if all(a in chans for a in axes):
            return _stack(img, [chans[a] for a in axes])
    return None


def _first_of(
    img: ExrImage, chans: dict[str, str], order: tuple[str, ...]
) -> tuple[NDArray[Any], bool] | None:
    """The first channel of ``order`` present in ``chans`` (short name -> full name), or the only one."""
    for c in order:
        if c in chans:
            ch = img.channels[chans[c]]
            return ch.pixels, ch.half
    if len(chans) == 1:
        ch = img.channels[next(iter(chans.values()))]
        return ch.pixels, ch.half
    return None


def _scalar(chans: dict[str, str], img: ExrImage) -> tuple[NDArray[Any], bool] | None:
    return _first_of(img, chans, ("Z", "V", "X", "Y", "R", "z", "v", "x", "y", "r"))


def _layers(img: ExrImage) -> dict[str, dict[str, dict[str, str]]]:
    """layer -> pass -> short channel -> full channel name."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for full in img.channels:
        layer, pname, chan = _split_name(full)
        out.setdefault(layer, {}).setdefault(pname, {})[chan] = full
    return out


def load_sidecar(path: str) -> dict[str, Any]:
    data = load_json_file(path, "sidecar", error=CanvasError)
    if not isinstance(data, dict):
        raise CanvasError("sidecar must hold a JSON object", path)
    return data


def _find_sidecar(exr_path: str, stem: str) -> str | None:
    cand = os.path.join(os.path.dirname(exr_path), stem + ".json")
    return cand if os.path.isfile(cand) else None


def _choose_layer(layers: dict[str, dict[str, dict[str, str]]], layer: str | None, path: str) -> str:
    """The named view layer, else the first holding a depth pass, else the first with anything."""
    if layer is not None:
        if layer not in layers:
            raise CanvasError(f"no view layer {layer!r}; the file has {sorted(n for n in layers if n)}", path)
        return layer
    named = [n for n in layers if n]
    candidates = named + ([""] if "" in layers else [])
    found = next((n for n in candidates if _pick(layers[n], _DEPTH_PASSES)), None)
    return candidates[0] if found is None else found


def _depth_of(passes: Passes, top: dict[str, str], img: ExrImage) -> tuple[FloatArray | None, bool]:
    depth_pass = _pick(passes, _DEPTH_PASSES)
    if depth_pass:
        got = _scalar(depth_pass[1], img)
        return got if got else (None, False)
    for name in ("Z", "Y"):  # a lone Y channel: a Daz depth canvas saved under another name
        if name in top and (name == "Z" or set(top) == {"Y"}):
            ch = img.channels[top[name]]
            return ch.pixels, ch.half
    return None, False


def _aovs_of(passes: Passes, img: ExrImage) -> dict[str, FloatArray]:
    """Passes that are none of the known kinds: scalars, and X,Y,Z / R,G,B vectors."""
    known = _DEPTH_PASSES | _NORMAL_PASSES | _OBJECT_PASSES | _MATERIAL_PASSES | _BEAUTY_PASSES | {""}
    aovs: dict[str, FloatArray] = {}
    for pname, chans in passes.items():
        if _norm(pname) in known or pname.lower().startswith("crypto"):
            continue
        got = _scalar(chans, img) if len(chans) == 1 else None
        if got is not None:
            aovs[pname] = got[0]
            continue
        for axes in (("X", "Y", "Z"), ("R", "G", "B")):
            if all(a in chans for a in axes):
                aovs[pname] = _stack(img, [chans[a] for a in axes])
                break
    return aovs


def _index_of(passes: Passes, keys: set[str], img: ExrImage) -> FloatArray | None:
    found = _pick(passes, keys)
    got = _scalar(found[1], img) if found else None
    return got[0] if got else None


def load_multilayer(
    path: str, layer: str | None = None, sidecar: str | None = None, need: Collection[str] | None = None
) -> CanvasSet:
    """Load a Blender (4.x single-part or 5.x multi-part) or plain EXR as one camera.

    ``need``: the canvas kinds to assemble (of :data:`KINDS`; default all). The others stay None,
    and their pixels are never converted from the file's storage.
    """
    path = os.fspath(path)
    want = KINDS if need is None else frozenset(need)
    stem = os.path.splitext(os.path.basename(path))[0]
    img = read_exr(path)
    layers = _layers(img)
    layer = _choose_layer(layers, layer, path)
    passes = layers[layer]
    top = layers.get("", {}).get("", {}) if layer else passes.get("", {})

    side_path = sidecar or _find_sidecar(path, stem)
    side = load_sidecar(side_path) if side_path else None
    # the normals first: stacking them holds two copies for a moment, before anything else is read
    normal_pass = _pick(passes, _NORMAL_PASSES) if "normal" in want else None
    normal = _vector(normal_pass[1], img, path, "Normal") if normal_pass else None
    depth, half = _depth_of(passes, top, img) if "depth" in want else (None, False)
    beauty = None
    if "beauty" in want:
        beauty_pass = _pick(passes, _BEAUTY_PASSES)
        beauty = _colour(beauty_pass[1], img) if beauty_pass else None
        beauty = _colour(top, img) if beauty is None else beauty
    aovs = _aovs_of(passes, img) if "aovs" in want else {}
    multi = len(img.parts) > 1
    layout = ("blender5" if multi else "blender4") if (layer or multi) else "plain"
    hit = None if depth is None else ~no_hit_mask(depth, half, far_clip(side))
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
        normal_space=None if normal is None else ("world" if layout != "plain" else "camera"),
        beauty=_ro(beauty),
        object_index=_index_of(passes, _OBJECT_PASSES, img) if "object" in want else None,
        material_index=_index_of(passes, _MATERIAL_PASSES, img) if "material" in want else None,
        aovs={k: _ro_array(v) for k, v in aovs.items()},
        cryptomatte={c.name: c for c in find_layers(img.header, img.channels, path)}
        if "cryptomatte" in want
        else {},
        header=img.header,
        sources=sources or {"file": path},
        channels={path: list(img.channels)},
        layer=layer,
        sidecar=side,
        sidecar_path=side_path,
        warnings=tuple(sidecar_notes(side, img.width, img.height, side_path)),
    )


def _daz_headers(stem: str, files: dict[str, str]) -> tuple[dict[str, list[str]], tuple[int, int]]:
    """Channel names per file and the size, from the headers alone (mismatched sizes are refused
    before any pixel is decoded)."""
    sizes: dict[str, tuple[int, int]] = {}
    names: dict[str, list[str]] = {}
    for path in files.values():
        hdr = read_header(path)[0]
        x0, y0, x1, y1 = (int(v) for v in (*hdr["displayWindow"][0], *hdr["displayWindow"][1]))
        sizes[path] = (x1 - x0 + 1, y1 - y0 + 1)
        names[path] = [str(getattr(c, "name", c)) for c in hdr.get("channels", [])]
    if len(set(sizes.values())) > 1:
        desc = ", ".join(f"{os.path.basename(p)} is {w}x{h}" for p, (w, h) in sizes.items())
        raise CanvasError(f"canvases of camera {stem!r} differ in size: {desc}", next(iter(files.values())))
    return names, next(iter(sizes.values()))


def load_daz(
    stem: str, files: dict[str, str], sidecar: str | None = None, need: Collection[str] | None = None
) -> CanvasSet:
    """Load one Daz render: ``files`` maps canvas kind (depth, normal, beauty, ...) to a path.

    ``need``: the canvas kinds to assemble (default all); the files of the others are not decoded.
    """
    want = KINDS if need is None else frozenset(need)
    header_names, (width, height) = _daz_headers(stem, files)
    images = {
        kind: read_exr(path)
        for kind, path in files.items()
        if ("depth" if kind == "distance" else kind) in want
    }
    side_path = sidecar or _find_sidecar(next(iter(files.values())), stem)
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
    merged: dict[str, object] = {}
    for img in images.values():
        for k, v in img.header.items():
            merged.setdefault(k, v)
    return CanvasSet(
        camera=stem,
        width=width,
        height=height,
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
        sources={k: v.path for k, v in images.items()} or {"file": next(iter(files.values()))},
        channels=header_names,
        sidecar=side,
        sidecar_path=side_path,
        warnings=tuple(sidecar_notes(side, width, height, side_path)),
    )


def _depth_channel(img: ExrImage) -> tuple[NDArray[Any], bool] | None:
    """A Daz depth/distance canvas: its Y (or Z) channel, or its only channel; None otherwise."""
    return _first_of(img, {n.split(".")[-1]: n for n in img.channels}, ("Y", "Z"))


def _ids_from_colours(img: ExrImage) -> NDArray[Any]:
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
    out: NDArray[np.float32] = ids.reshape(rgb.shape[:2])
    return out


@dataclass(frozen=True)
class CameraSource:
    """Where one camera's canvases are; cheap to build, loaded by :func:`load_camera`."""

    camera: str
    layout: str  # "daz" or "exr"
    files: dict[str, str]  # kind -> path ("file" for a single multilayer EXR; a sequence's first frame)
    frames: tuple[tuple[int, str], ...] = ()  # a frame sequence: (frame number, EXR path), ascending

    def load(self, layer: str | None = None, frame: int | None = None) -> CanvasSet:
        return load_camera(self, layer=layer, frame=frame)

    @property
    def frame_numbers(self) -> list[int]:
        """The sequence's frame numbers; [] for a still camera."""
        return [n for n, _ in self.frames]


def _daz_kind(kind: str) -> str | None:
    return _DAZ_KINDS.get(_norm(kind))


def discover(paths: list[str] | str) -> list[CameraSource]:
    """Find cameras in files and folders. Daz canvases are grouped by render stem."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [os.fspath(paths)]
    files: list[str] = []
    patterns: list[Sequence_] = []
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
        elif is_pattern(p):
            patterns.append(expand_pattern(p))
        else:
            raise CanvasError("no such file or folder", p)
    if not files and not patterns:
        raise CanvasError("no .exr files found", paths[0] if paths else None)
    cams: dict[str, CameraSource] = {}
    seqs, files = group_sequences(files)
    for seq in patterns + seqs:
        cams[seq.camera if seq.camera not in cams else seq.frames[0][1]] = CameraSource(
            camera=seq.camera, layout="exr", files={"file": seq.frames[0][1]}, frames=seq.frames
        )
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


def load_camera(
    src: CameraSource,
    layer: str | None = None,
    need: Collection[str] | None = None,
    frame: int | None = None,
) -> CanvasSet:
    """Load one camera; ``need`` limits the canvas kinds assembled (of :data:`KINDS`; default all).
    A sequence camera: ``frame`` (default its first frame), with that frame's sidecar."""
    if src.layout == "daz":
        return load_daz(src.camera, src.files, need=need)
    if not src.frames:
        return load_multilayer(src.files["file"], layer=layer, need=need)
    seq = Sequence_(src.camera, src.frames)
    number = seq.numbers[0] if frame is None else frame
    path = seq.path(number)
    cs = load_multilayer(path, layer=layer, sidecar=frame_sidecar(path, src.camera), need=need)
    return dataclasses.replace(cs, camera=src.camera, frame=number)


def load_frames(
    src: CameraSource,
    layer: str | None = None,
    frames: str | int | None = None,
    need: Collection[str] | None = None,
) -> list[CanvasSet]:
    """A sequence camera's selected frames (``frames``: "A-B", default all), or the still camera."""
    return [load_camera(src, layer=layer, need=need, frame=n) for n in frame_numbers(src, frames)]


def frame_numbers(src: CameraSource, frames: str | int | None = None) -> list[int | None]:
    """The selected frame numbers of a sequence camera; [None] for a still camera."""
    if not src.frames:
        return [None]
    return list(select_frames(src.frame_numbers, parse_frames(frames), src.camera))


def source_files(src: CameraSource, frame: int | None = None) -> list[str]:
    """The files a camera (a sequence: that frame, default all) is read from, its sidecar included,
    without reading any of them."""
    if src.frames:
        paths = [p for n, p in src.frames if frame is None or n == frame]
        sides = [frame_sidecar(p, src.camera) for p in paths]
        return [*paths, *dict.fromkeys(s for s in sides if s)]
    first = next(iter(src.files.values()))
    stem = src.camera if src.layout == "daz" else os.path.splitext(os.path.basename(first))[0]
    side = _find_sidecar(first, stem)
    return [*src.files.values(), *([side] if side else [])]


def load_cameras(paths: list[str] | str) -> list[CanvasSet]:
    return [load_camera(s) for s in discover(paths)]
