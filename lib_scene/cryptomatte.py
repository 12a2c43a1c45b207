"""Cryptomatte: object names and per-pixel object ids, without an exporter or a sidecar.

A Cryptomatte layer (spec: Psyop's Cryptomatte 1.2, as Blender, Nuke, Arnold and V-Ray write it):

* header ``cryptomatte/<key>/name`` (e.g. ``ViewLayer.CryptoObject``), ``.../hash``
  (``MurmurHash3_32``), ``.../conversion`` (``uint32_to_float32``) and ``.../manifest`` (JSON
  ``{object name: "8-digit hex id"}``) or ``.../manif_file`` (a JSON file beside the EXR);
* channels ``<name>00.r/g/b/a``, ``<name>01...``: each holds two ranks, (r, g) and (b, a), of
  ``(id, coverage)``; ids are the float32 bit patterns of the hashed names, ranks are sorted by
  coverage. Blender writes them lower case and float32 even with a half Combined.

Each pixel resolves to its *dominant* object: the id with the most coverage, unless the
uncovered rest (1 - the sum of the coverages, i.e. the background) is larger. Everything is
vectorised over the canvas (a loop over the ranks only); ids are never rounded through floats.
The decoders on PyPI (cryptomatte-api, decryptomatte) are single young releases with heavier
stacks than OpenEXR + numpy, so the few lines below are ours.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import CanvasError, RegionError

__all__ = [
    "CryptoLayer",
    "crypto_id",
    "dominant_ids",
    "find_layers",
    "object_codes",
    "pick_layer",
]

_KEY = re.compile(r"^cryptomatte/([^/]+)/(name|hash|conversion|manifest|manif_file)$")
_RANK_CHANNEL = re.compile(r"^(?P<base>.+?)(?P<n>\d\d)\.(?P<c>[rgbaRGBA])$")


@dataclass(frozen=True)
class CryptoLayer:
    """One Cryptomatte layer of a file: its manifest and its rank channels (read-only views).

    ``ids[k]`` / ``coverage[k]`` are rank k's id bit patterns (uint32) and coverage (float32).
    ``manifest`` maps object names to ids as the file lists them (empty when it lists none).
    """

    name: str  # e.g. "ViewLayer.CryptoObject"
    manifest: Mapping[str, int]
    ids: tuple[NDArray[np.uint32], ...]
    coverage: tuple[NDArray[np.float32], ...]
    hash: str = "MurmurHash3_32"
    conversion: str = "uint32_to_float32"
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def short(self) -> str:
        """The layer's own part of the name: ``CryptoObject`` for ``ViewLayer.CryptoObject``."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def levels(self) -> int:
        return len(self.ids)


# --------------------------------------------------------------------------- hashing


def _murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit (Austin Appleby's reference), for object names (a few bytes each)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    n = len(data)
    for i in range(0, n - n % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[n - n % 4 :]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= n
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def crypto_id(name: str) -> int:
    """The Cryptomatte id (uint32 bit pattern) of an object name: MurmurHash3_32 of its UTF-8
    bytes, with the exponent nudged off 0 and 255 so that the float32 is neither a denormal nor
    inf/NaN (``uint32_to_float32``)."""
    h = _murmur3_32(name.encode("utf-8"))
    exp = (h >> 23) & 0xFF
    if exp in (0, 255):
        h ^= 1 << 23
    return h


# --------------------------------------------------------------------------- reading


def _manifest(meta: Mapping[str, str], exr_path: str, warnings: list[str]) -> dict[str, int]:
    raw = meta.get("manifest")
    where = exr_path
    if raw is None and meta.get("manif_file"):
        where = os.path.join(os.path.dirname(exr_path), meta["manif_file"])
        try:
            with open(where, encoding="utf-8") as fh:
                raw = fh.read()
        except OSError as exc:
            raise CanvasError(f"Cryptomatte manifest file unreadable ({exc.strerror})", where) from exc
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CanvasError(f"Cryptomatte manifest is not valid JSON ({exc.msg})", where) from exc
    if not isinstance(data, dict):
        raise CanvasError("Cryptomatte manifest must be a JSON object {name: hex id}", where)
    out: dict[str, int] = {}
    seen: dict[int, str] = {}
    for name, hexid in data.items():
        try:
            value = int(str(hexid), 16)
        except ValueError as exc:
            raise CanvasError(f"Cryptomatte manifest: id {hexid!r} of {name!r} is not hex", where) from exc
        if not 0 <= value <= 0xFFFFFFFF:
            raise CanvasError(f"Cryptomatte manifest: id {hexid!r} of {name!r} is not 32-bit", where)
        if value in seen:
            warnings.append(
                f"Cryptomatte objects {seen[value]!r} and {name!r} share id {value:08x} (a hash "
                f"collision); both read as {seen[value]!r}"
            )
            continue
        seen[value] = str(name)
        out[str(name)] = value
    return out


def _id_bits(channel: Any) -> NDArray[np.uint32]:
    """A rank's ids as uint32 bit patterns: the float32 channel reinterpreted (never converted);
    a channel stored as UINT already holds them."""
    stored = getattr(channel, "stored", None)
    if stored is not None and stored.dtype == np.uint32 and getattr(channel, "windows", None) is None:
        return np.asarray(stored)
    return np.asarray(channel.pixels, dtype=np.float32).view(np.uint32)


def _rank_channels(
    channels: Mapping[str, Any], base: str, path: str
) -> tuple[tuple[NDArray[np.uint32], ...], tuple[NDArray[np.float32], ...]]:
    """Rank arrays of layer ``base``: ``base00.r/g/b/a``, ``base01...`` until one is missing."""
    ids: list[NDArray[np.uint32]] = []
    cov: list[NDArray[np.float32]] = []
    k = 0
    while True:
        names = {c: f"{base}{k:02d}.{c}" for c in "rgba"}
        if not all(n in channels for n in names.values()):
            names = {c: f"{base}{k:02d}.{c.upper()}" for c in "rgba"}
            if not all(n in channels for n in names.values()):
                break
        for c in names.values():
            if channels[c].half:
                raise CanvasError(
                    f"Cryptomatte channel {c!r} is stored as half; its ids need full float32 "
                    "(re-render with 32-bit float data passes)",
                    path,
                )
        for id_c, cov_c in (("r", "g"), ("b", "a")):
            ids.append(_id_bits(channels[names[id_c]]))
            cov.append(np.asarray(channels[names[cov_c]].pixels, dtype=np.float32))
        k += 1
    return tuple(ids), tuple(cov)


def find_layers(header: Mapping[str, object], channels: Mapping[str, Any], path: str) -> list[CryptoLayer]:
    """Every Cryptomatte layer of an EXR (``channels``: name -> :class:`lib_scene.exr.Channel`).

    Layers come from the ``cryptomatte/<key>/...`` header entries; rank channels with no header
    entry (a stripped file) still make a layer, with an empty manifest."""
    meta: dict[str, dict[str, str]] = {}
    for key, value in header.items():
        m = _KEY.match(str(key))
        if m:
            meta.setdefault(m.group(1), {})[m.group(2)] = str(value)
    layers: list[CryptoLayer] = []
    named: set[str] = set()
    for key in sorted(meta):
        info = meta[key]
        base = info.get("name")
        if not base:
            continue
        named.add(base)
        warnings: list[str] = []
        ids, cov = _rank_channels(channels, base, path)
        if not ids:
            warnings.append(f"Cryptomatte layer {base!r} is named in the header but has no rank channels")
        hash_name = info.get("hash", "MurmurHash3_32")
        conversion = info.get("conversion", "uint32_to_float32")
        if hash_name != "MurmurHash3_32" or conversion != "uint32_to_float32":
            warnings.append(
                f"Cryptomatte layer {base!r} uses hash {hash_name!r} / conversion {conversion!r}; "
                "ids are read as float32 bit patterns regardless"
            )
        manifest = _manifest(info, path, warnings)
        layers.append(CryptoLayer(base, manifest, ids, cov, hash_name, conversion, tuple(warnings)))
    bare = sorted(
        {m.group("base") for c in channels if (m := _RANK_CHANNEL.match(c)) and "crypto" in c.lower()} - named
    )
    for base in bare:
        ids, cov = _rank_channels(channels, base, path)
        if ids:
            note = f"Cryptomatte layer {base!r} has no manifest in the header; objects are named by id"
            layers.append(CryptoLayer(base, {}, ids, cov, warnings=(note,)))
    return [layer for layer in layers if layer.ids]


def pick_layer(layers: Mapping[str, CryptoLayer], wanted: str = "", view_layer: str = "") -> CryptoLayer:
    """The layer named ``wanted`` (full name, its last part, or ``object``/``material``/``asset``,
    case-insensitive); by default the view layer's object layer, else the first."""
    if not layers:
        raise RegionError("the canvas has no Cryptomatte layer (enable the Cryptomatte Object pass)")
    want = wanted.strip().lower()
    if want:
        for layer in layers.values():
            if want in (layer.name.lower(), layer.short.lower(), layer.short.lower().replace("crypto", "")):
                return layer
        raise RegionError(f"no Cryptomatte layer {wanted!r}; the file has {', '.join(sorted(layers))}")
    ordered = sorted(layers.values(), key=lambda la: (not la.name.startswith(view_layer + "."), la.name))
    objects = [la for la in ordered if la.short.lower() == "cryptoobject"]
    return (objects or ordered)[0]


# --------------------------------------------------------------------------- resolving


def _match(
    ids: NDArray[np.uint32], pixels: NDArray[np.uint32]
) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """Per pixel, 1 + the position of its id in ``ids`` (0 where absent), and where present."""
    if not ids.size:
        return np.zeros(pixels.shape, dtype=np.int32), np.zeros(pixels.shape, dtype=bool)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    pos = np.minimum(np.searchsorted(sorted_ids, pixels), sorted_ids.size - 1)
    hit = (sorted_ids[pos] == pixels) & (pixels != 0)
    codes = np.where(hit, order[pos] + 1, 0).astype(np.int32)
    return codes, hit


def dominant_ids(layer: CryptoLayer) -> NDArray[np.uint32]:
    """Per pixel, the id of the object with the most coverage; 0 where nothing is covered or
    the uncovered rest (the background) outweighs every object."""
    shape = layer.ids[0].shape
    best_cov = np.zeros(shape, dtype=np.float32)
    best_id = np.zeros(shape, dtype=np.uint32)
    total = np.zeros(shape, dtype=np.float32)
    better = np.empty(shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for ids, cov in zip(layer.ids, layer.coverage, strict=True):
            np.greater(cov, best_cov, out=better)  # NaN and negative coverage never win
            np.copyto(best_cov, cov, where=better)
            np.copyto(best_id, ids, where=better)
            np.add(total, cov, out=total, where=cov > 0)
        rest = np.subtract(1.0, total, dtype=np.float32)
        best_id[best_cov < rest] = 0
    return best_id


def object_codes(
    layer: CryptoLayer, dominant: NDArray[np.uint32]
) -> tuple[NDArray[np.int32], dict[int, str], list[str]]:
    """Codes 1..K for the objects (0: no object), their names, and warnings.

    The manifest's objects are numbered in name order (stable whatever the render); ids present
    in the pixels but missing from the manifest follow, named ``id <hex>``."""
    warnings = list(layer.warnings)
    names = sorted(layer.manifest)
    known = np.array([layer.manifest[n] for n in names], dtype=np.uint32)
    codes, matched = _match(known, dominant)
    stray_px = ~matched & (dominant != 0)
    strays = np.unique(dominant[stray_px]) if stray_px.any() else np.zeros(0, dtype=np.uint32)
    if strays.size:
        if layer.manifest:
            shown = ", ".join(f"{int(s):08x}" for s in strays[:5])
            warnings.append(
                f"Cryptomatte layer {layer.name!r}: {strays.size} id(s) in the pixels are not in the "
                f"manifest ({shown}); they are named by id"
            )
        extra, _ = _match(strays, dominant)
        codes = np.where(stray_px, extra + len(names), codes)
    all_names = names + [f"id {int(s):08x}" for s in strays]
    return codes, {k + 1: n for k, n in enumerate(all_names)}, warnings
