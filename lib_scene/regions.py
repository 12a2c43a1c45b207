"""Index passes -> Regional Prompter masks, region tables and nearest-first prompts.

Rooms: :mod:`lib_scene.descriptions` (what the artist wrote), :mod:`lib_scene.region_labels` (labels
from an index source), this module (visibility, order, mask, table) and :mod:`lib_scene.prompt`.

Pipeline for one camera (everything vectorised over the canvas):

1. **Labels** from an index source: the object index pass (``IndexOB`` / ``Object Index``), the
   material index pass, a Value AOV holding the pass index (``aov:NAME``; EEVEE's workaround,
   cleaned: only values within 0.01 of an integer are trusted, the antialiased rest takes the
   value of the nearest trusted pixel), or the ``region`` flags of a depth split plan. Index 0 (and
   anything negative, non-finite or not an integer) is unassigned; for splits, -1 is unassigned
   and every region flag, 0 included, is a label.
2. **Visibility**: coverage = an index's pixels / all pixels; visible when coverage > threshold.
   Invisible indices are unassigned and absent from the prompt.
3. **Regions**: visible indices with the same description form one region (several objects that
   share a pass index are one index already).
4. **Order**: nearest first by the median depth of the region's hit pixels ("depth", occlusion
   aware), or by the distance object origin -> camera ("distance": ``distance`` from the
   descriptions, else computed from the sidecar's ``location`` and the translation column of
   ``matrix_world``). Ties go to the smaller pass index.
5. **Mask**: the k-th region in order is painted in Regional Prompter colour k (exact palette,
   :mod:`lib_scene.palette`); unassigned pixels are black. Seams: ``grow`` passes of a 3x3
   (8-neighbour) dilation into *unassigned pixels only*; a pixel reached by several regions in the
   same pass takes the lowest region number (the nearest region wins, as the nearest layer is on
   top in a hand-painted stack). Growth never paints over a region.
6. **Prompt**: ``base BREAK d0 BREAK d1 ...`` (Regional Prompter with "use base" on), or the flat
   form ``base, d0, d1, ...``. Descriptions are sanitised (:func:`lib_scene.prompt.sanitize`).

The regional prompt always has exactly ``len(regions) + 1`` BREAK sections: the base section is
emitted even when the base text is empty (the prompt then starts with ``BREAK``), so with
"use base" on the first section is always the base and region k always binds to colour k.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import blocks
from .canvas import CanvasSet
from .descriptions import (
    Descriptions,
    camera_position,
    descriptions_by_name,
    descriptions_from_sidecar,
    load_descriptions,
    parse_index_text,
    parse_properties,
    with_edits,
)
from .errors import RegionError
from .files import OutputBatch
from .palette import MAX_REGIONS, region_palette
from .prompt import RP_KEYWORDS, compose, flat, sanitize
from .region_grow import SENTINEL as _SENTINEL
from .region_grow import grow_at, grow_regions, paint_mask
from .region_labels import (
    AOV_TOLERANCE,
    RegionStats,
    clean_index_aov,
    count_codes,
    crypto_labels,
    is_crypto,
    pick_source,
    region_stats,
    source_labels,
)
from .splits import SplitPlan

#: Default visibility threshold: an index must cover more than this share of the frame.
DEFAULT_THRESHOLD = 0.005
ORDERS = ("depth", "distance")
FORMS = ("regional", "flat")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Region:
    """One Regional Prompter region: number k (0-based, nearest first) painted in colour k."""

    number: int
    color: tuple[int, int, int]
    indices: tuple[int, ...]
    objects: tuple[str, ...]
    description: str
    coverage: float
    median_depth: float | None
    distance: float | None = None
    pixels: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "color": list(self.color),
            "color_hex": "#{:02x}{:02x}{:02x}".format(*self.color),
            "indices": list(self.indices),
            "objects": list(self.objects),
            "description": self.description,
            "coverage": round(self.coverage, 6),
            "pixels": self.pixels,
            "median_depth": None if self.median_depth is None else round(self.median_depth, 6),
            "distance": None if self.distance is None else round(self.distance, 6),
        }


@dataclass(frozen=True)
class Hidden:
    """An index that is present in the descriptions or the pass but gets no region."""

    index: int
    coverage: float
    objects: tuple[str, ...]
    reason: str  # "below threshold" | "not in frame"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "coverage": round(self.coverage, 6),
            "objects": list(self.objects),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RegionResult:
    camera: str
    labels: NDArray[Any]  # (H, W) int16: region number, -1 unassigned (after seam growth)
    regions: tuple[Region, ...]
    hidden: tuple[Hidden, ...]
    warnings: tuple[str, ...]
    source: str  # "index" | "material" | "aov:NAME" | "splits" | "cryptomatte[:LAYER]"
    order: str
    threshold: float
    grow: int
    depth_unit: str = "scene"

    @cached_property
    def mask(self) -> NDArray[Any]:
        """(H, W, 3) uint8: region k in palette colour k, black unassigned (painted on first use:
        a plan paints only its generation-size copy, :meth:`mask_at`)."""
        return paint_mask(self.labels.view(np.uint16), len(self.regions))

    def mask_at(self, width: int, height: int) -> NDArray[Any]:
        """The mask resized (nearest neighbour) to ``width`` x ``height``: the labels are picked,
        then painted, which gives the same pixels as resizing the painted mask."""
        from .imaging import resize_nearest  # Pillow loads only where an image is resized

        small = resize_nearest(self.labels.view(np.uint16), width, height)
        return paint_mask(small, len(self.regions))

    def table(self) -> list[dict[str, Any]]:
        """The region table: number, colour, pass indices, object names, description, coverage,
        median depth (JSON-able)."""
        return [r.to_dict() for r in self.regions]

    @property
    def descriptions(self) -> list[str]:
        return [r.description for r in self.regions]

    def to_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "width": int(self.mask.shape[1]),
            "height": int(self.mask.shape[0]),
            "source": self.source,
            "order": self.order,
            "threshold": self.threshold,
            "grow": self.grow,
            "depth_unit": self.depth_unit,
            "regions": self.table(),
            "hidden": [h.to_dict() for h in self.hidden],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PromptResult:
    text: str
    sections: tuple[str, ...]  # the BREAK-separated sections (base first); one for the flat form
    warnings: tuple[str, ...] = ()
    form: str = "regional"


def _group_medians(
    groups: NDArray[Any], depth: NDArray[Any] | None, hit: NDArray[Any] | None, n: int
) -> list[float | None]:
    """Exact median depth of each group's hit pixels (``groups`` == n: no group); None where a
    group has no hit pixel. A few groups: each group's depths are picked by a boolean mask; many:
    the hit pixels' groups and depths are gathered once and radix-sorted by group. Either way each
    group's depths are only partitioned (in place) around the middle rank(s), never sorted, and
    no index array the size of the canvas is made."""
    if depth is None or n == 0:
        return [None] * n
    depth = np.asarray(depth)
    sel = groups < n
    if hit is not None:
        sel &= hit
    else:
        with np.errstate(invalid="ignore"):
            sel &= np.isfinite(depth) & (depth < 1e9)
    if not sel.any():
        return [None] * n
    if n <= 8:
        segs: Iterable[NDArray[Any]] = (depth[sel & (groups == k)] for k in range(n))
    else:
        g = groups[sel].astype(np.uint16, copy=False)  # 16-bit keys: radix sort
        dv = depth[sel][np.argsort(g, kind="stable")]
        ends = np.cumsum(np.bincount(g, minlength=n)[:n])
        del g, sel
        segs = (dv[(ends[k - 1] if k else 0) : ends[k]] for k in range(n))
    out: list[float | None] = []
    for seg in segs:
        c = int(seg.size)
        if c == 0:
            out.append(None)
            continue
        a, b = (c - 1) // 2, c // 2
        seg.partition((a, b) if a != b else a)  # a copy of the group's depths (or its own slice)
        out.append((float(seg[a]) + float(seg[b])) / 2.0)
    return out


# --------------------------------------------------------------------------- mask


# --------------------------------------------------------------------------- build


def _fallback_name(source: str, idx: int) -> str:
    if source == "material":
        return f"material {idx}"
    if source == "splits":
        return f"region {idx}"
    return f"object {idx}"


def _check_options(threshold: object, order: str, grow: object) -> tuple[float, int]:
    try:
        thr = float(threshold)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        thr = math.nan
    if not 0 <= thr < 1:
        raise RegionError(f"threshold must be a share of the frame in [0, 1), got {threshold!r}")
    if order not in ORDERS:
        raise RegionError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if isinstance(grow, bool) or not isinstance(grow, (int, np.integer)) or grow < 0:
        raise RegionError(f"grow must be a whole number of pixels >= 0, got {grow!r}")
    return thr, int(grow)


@dataclass
class _Build:
    """The working state of one ``build_regions`` call."""

    cs: CanvasSet
    src: str
    desc: Descriptions
    known_scene: set[int]
    warnings: list[str]
    ids: NDArray[np.int64]  # the label of each present code
    counts: NDArray[np.int64]
    cover: NDArray[np.float64]
    split_labels: dict[int, list[str]] = field(default_factory=dict)
    members: list[list[int]] = field(default_factory=list)  # group -> positions in ids
    texts: list[str] = field(default_factory=list)


def _descriptions_for(
    cs: CanvasSet, src: str, descriptions: Descriptions | None, order: str, warnings: list[str]
) -> tuple[Descriptions, set[int]]:
    """Explicit descriptions completed with names/distances from the sidecar, or the sidecar's own;
    and the pass indices the sidecar lists."""
    side_key = "materials" if src == "material" else "objects"
    side_desc = None
    if cs.sidecar and src != "splits":
        side_desc = descriptions_from_sidecar(cs.sidecar, cs.sidecar_path, key=side_key)
    known = set(side_desc.names) if side_desc is not None else set()
    if descriptions is None:
        if side_desc is not None:
            warnings.extend(side_desc.warnings)
        return side_desc or Descriptions(), known
    desc, note = descriptions.for_camera(cs.camera)
    desc = desc.resolve_names(cs.sidecar).fill_from(side_desc)
    warnings.extend(desc.warnings)
    if note and order == "distance":
        warnings.append(note)
    return desc, known


def _describe(b: _Build, visible: NDArray[np.bool_], descriptions: Descriptions | None) -> None:
    """Describe the visible labels (sanitised) and group equal descriptions into one region."""
    borrowed = sorted(int(b.ids[p]) for p in np.flatnonzero(visible) if int(b.ids[p]) in b.desc.borrowed)
    if borrowed and descriptions is not None:
        b.warnings.append(
            f"{os.path.basename(descriptions.source or 'the descriptions')} does not describe pass "
            f"index(es) {', '.join(map(str, borrowed))}; their descriptions come from the camera sidecar"
        )
    group_of: dict[str, int] = {}
    for pos in np.flatnonzero(visible):
        idx = int(b.ids[pos])
        names = tuple(b.desc.names.get(idx, ()))
        text = b.desc.description(idx)
        if not text and b.src == "splits" and idx in b.split_labels:
            text = ", ".join(b.split_labels[idx])
        if not text:
            text = names[0] if names else _fallback_name(b.src, idx)
            b.warnings.append(
                f"{_fallback_name(b.src, idx)} ({100 * b.cover[pos]:.2f}% of the frame) has no description; "
                f"using {text!r}"
            )
        clean = sanitize(text, b.warnings, what=f"description of index {idx}")
        if not clean:
            clean = _fallback_name(b.src, idx)
            b.warnings.append(f"description of index {idx} is empty; using {clean!r}")
        # Cryptomatte names every object apart: equal descriptions still make separate regions
        key = f"{idx}\0{clean}" if is_crypto(b.src) else clean
        g = group_of.get(key)
        if g is None:
            g = group_of[key] = len(b.members)
            b.members.append([])
            b.texts.append(clean)
        b.members[g].append(int(pos))


def _rank(
    b: _Build, order: str, medians: list[float | None], dists: list[float | None]
) -> tuple[list[int], str]:
    """Groups nearest first, and the order actually used."""
    n = len(b.members)
    first_index = [min(int(b.ids[p]) for p in pos_list) for pos_list in b.members]
    inf = math.inf
    order_used = order
    if order == "depth" and b.cs.depth is None and n:
        b.warnings.append(
            f"camera {b.cs.camera!r} has no depth canvas; regions are ordered by distance instead"
        )
        order_used = "distance"
    key: list[tuple[float, ...]]
    if order_used == "depth":
        key = [(inf if m is None else m, first_index[g]) for g, m in enumerate(medians)]
        if any(m is None for m in medians):
            b.warnings.append("some regions have no hit pixels; they are ordered last")
    else:
        missing = [b.texts[g] for g in range(n) if dists[g] is None]
        if missing:
            cam = camera_position(b.cs.sidecar)
            why = "no matrix_world in the sidecar" if cam is None else "no location or distance"
            b.warnings.append(
                f"order 'distance': {len(missing)} region(s) have no distance ({why}): "
                f"{', '.join(missing[:5])}; they go last, by median depth"
            )
        key = [
            (
                0 if dists[g] is not None else 1,
                _or(dists[g], _or(medians[g], inf)),
                first_index[g],
            )
            for g in range(n)
        ]
    return sorted(range(n), key=lambda g: key[g]), order_used


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _region_list(
    b: _Build, rank: list[int], medians: list[float | None], dists: list[float | None]
) -> list[Region]:
    palette = region_palette(len(b.members))
    regions = []
    for k, g in enumerate(rank):
        pos_list = sorted(b.members[g], key=lambda p: int(b.ids[p]))
        idxs = tuple(int(b.ids[p]) for p in pos_list)
        if b.src == "splits":
            objs = tuple(dict.fromkeys(lbl for i in idxs for lbl in b.split_labels.get(i, ())))
        else:
            objs = tuple(dict.fromkeys(n_ for i in idxs for n_ in b.desc.names.get(i, ())))
        regions.append(
            Region(
                number=k,
                color=(int(palette[k][0]), int(palette[k][1]), int(palette[k][2])),
                indices=idxs,
                objects=objs,
                description=b.texts[g],
                coverage=float(sum(b.cover[p] for p in pos_list)),
                median_depth=medians[g],
                distance=dists[g],
                pixels=int(sum(b.counts[p] for p in pos_list)),
            )
        )
    return regions


def _hidden(b: _Build, visible: NDArray[np.bool_]) -> list[Hidden]:
    hidden: list[Hidden] = []
    for pos in np.flatnonzero(~visible):
        idx = int(b.ids[pos])
        hidden.append(Hidden(idx, float(b.cover[pos]), tuple(b.desc.names.get(idx, ())), "below threshold"))
    present_ids = {int(i) for i in b.ids}
    for idx in b.desc.indices():
        if idx in present_ids:
            continue
        names = tuple(b.desc.names.get(idx, ()))
        hidden.append(Hidden(idx, 0.0, names, "not in frame"))
        if idx not in b.known_scene and (idx in b.desc.text or idx in b.desc.names):
            label = f" ({', '.join(names)})" if names else ""
            b.warnings.append(
                f"descriptions name pass index {idx}{label}, which no pixel of camera {b.cs.camera!r} holds "
                "and the scene sidecar does not list; ignored"
            )
    return sorted(hidden, key=lambda h: h.index)


def _number_of_group(rank: list[int], n: int) -> NDArray[np.uint16]:
    """Region number of each group, 65535 for group n (no group)."""
    number_of_group = np.empty(n + 1, dtype=np.uint16)
    number_of_group[n] = _SENTINEL
    for k, g in enumerate(rank):
        number_of_group[g] = k
    return number_of_group


def _numbers(b: _Build, groups: NDArray[np.uint16], rank: list[int], grow: int) -> NDArray[np.uint16]:
    """Region number per pixel (65535 unassigned) from the group per pixel, grown into the seams."""
    n = len(b.members)
    numbers = grow_regions(blocks.take(_number_of_group(rank, n), groups), grow, in_place=True)
    present = blocks.bincount(numbers, minlength=n + 1)
    if not ((present[:n] > 0).all() and present[n:-1].sum() == 0):
        raise RegionError(
            f"camera {b.cs.camera!r}: the mask does not hold exactly the first {n} palette colours"
        )
    return numbers


def _split_labels(src: str, splits: SplitPlan | None) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if src == "splits" and splits is not None:
        for s in splits.splits:
            if s.region is not None and s.label:
                out.setdefault(int(s.region), []).append(s.label)
    return out


def build_regions(
    cs: CanvasSet,
    descriptions: Descriptions | None = None,
    source: str = "auto",
    threshold: float = DEFAULT_THRESHOLD,
    order: str = "depth",
    grow: int = 1,
    splits: SplitPlan | None = None,
    stats: RegionStats | None = None,
    grid: tuple[NDArray[Any], NDArray[Any]] | None = None,
) -> RegionResult:
    """Regions of one camera (:class:`lib_scene.canvas.CanvasSet`): mask, table and warnings.

    ``descriptions`` default to the camera's sidecar (its ``objects`` map; ``materials`` for the
    material source). Names and distances missing from given descriptions are taken from the
    sidecar. An index without a description is described by its object name, else "object N",
    with a warning. Descriptions are sanitised (:func:`lib_scene.prompt.sanitize`). ``stats``:
    this camera's :func:`lib_scene.region_labels.region_stats` for ``source`` and ``splits``
    (kept by a caller that re-thresholds; the result is the same). ``grid``: the rows and columns
    of a preview (:class:`lib_scene.preview.PreviewGrid` ``ys``, ``xs``): ``labels`` (so ``mask``
    and the size in ``to_dict``) are then the labels at those pixels only, ``labels[ys][:, xs]``
    of the whole; with ``stats`` that kept the
    depths and ``grow`` <= 1 no pass over the whole canvas is made (:func:`grow_at`).
    """
    thr, grow = _check_options(threshold, order, grow)
    src = stats.source if stats is not None else pick_source(cs, source, splits)
    st: RegionStats | None = None
    if is_crypto(src):  # objects by name: the descriptions decide which are background
        codes, names, warnings = crypto_labels(cs, src)
        desc, background = descriptions_by_name(names, cs.sidecar, descriptions)
        codes, offset = _drop_background(codes, background, cs, warnings), 0
        known = set(desc.names)
        warnings.extend(desc.warnings)
        keys, values, counts, codes = count_codes(codes)
    else:
        st = stats if stats is not None else region_stats(cs, source, splits, depths=False)
        src, warnings, offset = st.source, list(st.warnings), st.offset
        desc, known = _descriptions_for(cs, src, descriptions, order, warnings)
        keys, values, counts, codes = st.keys, st.values, st.counts, st.codes
    cover = counts / codes.size
    visible = cover > thr
    b = _Build(cs, src, desc, known, warnings, values - offset, counts, cover, _split_labels(src, splits))
    _describe(b, visible, descriptions)
    n = len(b.members)
    if n > MAX_REGIONS:
        raise RegionError(f"{n} visible regions; Regional Prompter's palette here stops at {MAX_REGIONS}")
    code_to_group = np.full(int(keys.max()) + 1 if keys.size else 1, n, dtype=np.uint16)
    for g, pos_list in enumerate(b.members):
        code_to_group[keys[pos_list]] = g
    kept = st.medians if st is not None and st.depths is not None else None
    at = grid if kept is not None and grow <= 1 else None  # the grid's pixels only
    groups = None if at is not None else blocks.take(code_to_group, codes)  # n: no group
    if at is None:
        del codes, st  # labels counted here (an int32 canvas) are freed before the seams are grown
    if kept is not None:  # counted once per camera: no pass over the canvas
        medians = kept([[int(keys[p]) for p in pos_list] for pos_list in b.members])
    else:
        assert groups is not None
        medians = _group_medians(groups, cs.depth, cs.hit, n)
    dists = [_min_distance(b, pos_list) for pos_list in b.members]
    rank, order_used = _rank(b, order, medians, dists)
    if at is not None:
        lut = _number_of_group(rank, n)[code_to_group]
        numbers = grow_at(lut, codes, *at) if grow else np.take(lut, codes[at[0]][:, at[1]])
    else:
        assert groups is not None
        numbers = _numbers(b, groups, rank, grow)
        numbers = numbers if grid is None else numbers[grid[0]][:, grid[1]]
    regions = _region_list(b, rank, medians, dists)
    hidden = _hidden(b, visible)
    if n == 0:
        warnings.append(
            f"camera {cs.camera!r}: no object covers more than {100 * thr:g}% of the frame; the prompt is "
            "the plain base prompt, there are no regions and the mask is all black (leave Regional Prompter off)"
        )
    return RegionResult(
        camera=cs.camera,
        labels=numbers.view(np.int16),  # region numbers < 32768; the sentinel 65535 reads as -1
        regions=tuple(regions),
        hidden=tuple(hidden),
        warnings=tuple(dict.fromkeys(warnings)),
        source=src,
        order=order_used,
        threshold=thr,
        grow=grow,
        depth_unit=getattr(cs, "depth_unit", "scene"),
    )


def _drop_background(
    codes: NDArray[Any], background: set[int], cs: CanvasSet, warnings: list[str]
) -> NDArray[Any]:
    """Cryptomatte objects the sidecar does not describe are background (code 0)."""
    if not background:
        return codes
    lut = np.arange(int(codes.max()) + 1 if codes.size else 1, dtype=np.int32)
    gone = [c for c in background if c < lut.size]
    lut[gone] = 0
    out = np.take(lut, codes)
    if np.count_nonzero(out != codes):
        warnings.append(
            f"camera {cs.camera!r}: {len(gone)} Cryptomatte object(s) have no description in "
            f"{os.path.basename(cs.sidecar_path or 'the sidecar')}; they are background"
        )
    return out


def _min_distance(b: _Build, pos_list: list[int]) -> float | None:
    ds = [b.desc.distances[int(b.ids[p])] for p in pos_list if int(b.ids[p]) in b.desc.distances]
    return min(ds) if ds else None


# --------------------------------------------------------------------------- prompt


def build_prompt(
    base: str | None, regions: Iterable[Region | str] | RegionResult, form: str = "regional"
) -> PromptResult:
    """The prompt for a camera's regions, nearest first (:mod:`lib_scene.prompt` composes it).

    ``regional``: ``base BREAK d0 BREAK d1 ...`` for Regional Prompter with "use base" on. The base
    section is always there, even when empty (then the text starts with ``BREAK``), so there are
    always exactly ``len(regions) + 1`` sections and region k binds to colour k. With no region
    the prompt is the plain base prompt (no BREAK; leave Regional Prompter off).
    ``flat``: ``base, d0, d1, ...`` (empty parts skipped) for users without Regional Prompter.
    The base and every description are sanitised (:func:`lib_scene.prompt.sanitize`).
    """
    if form not in FORMS:
        raise RegionError(f"prompt form must be one of {', '.join(FORMS)}, got {form!r}")
    items = regions.regions if isinstance(regions, RegionResult) else regions
    warnings: list[str] = []
    base_s = sanitize(base or "", warnings, what="base prompt")
    descs: list[str] = []
    for i, r in enumerate(items):
        text = r.description if isinstance(r, Region) else str(r)
        d = sanitize(text, warnings, what=f"region {i}")
        if not d:
            d = f"region {i}"
            warnings.append(f"region {i} has an empty description; using {d!r}")
        descs.append(d)
    sections: tuple[str, ...]
    if form == "flat":
        text = flat(base_s, descs)
        sections = (text,)
    else:
        text, _ = compose(base_s, descs, use_base=True)
        sections = (base_s, *descs) if descs else (base_s,)
    if not text:
        warnings.append("the prompt is empty")
    return PromptResult(text=text, sections=sections, warnings=tuple(warnings), form=form)


def region_outputs(
    cs: CanvasSet, result: RegionResult, prompt: PromptResult, out: str, batch: OutputBatch
) -> list[str]:
    """Queue ``<camera>.regions.png``, ``.regions.json`` and ``.prompt.txt`` on an OutputBatch."""
    base = os.path.join(out, cs.out_stem)
    data = result.to_dict()
    data["prompt"] = {"form": prompt.form, "text": prompt.text, "sections": list(prompt.sections)}
    data["warnings"] = list(dict.fromkeys([*result.warnings, *prompt.warnings]))
    return [
        batch.add_png(base + ".regions.png", result.mask),
        batch.add(base + ".regions.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n"),
        batch.add(base + ".prompt.txt", prompt.text + "\n"),
    ]


#: The one sanitiser, under the name this module used to have.
sanitize_description = sanitize

__all__ = [
    "AOV_TOLERANCE",
    "DEFAULT_THRESHOLD",
    "RP_KEYWORDS",
    "Descriptions",
    "Hidden",
    "PromptResult",
    "Region",
    "RegionError",
    "RegionResult",
    "build_prompt",
    "build_regions",
    "camera_position",
    "clean_index_aov",
    "descriptions_from_sidecar",
    "grow_regions",
    "load_descriptions",
    "paint_mask",
    "parse_index_text",
    "parse_properties",
    "pick_source",
    "region_outputs",
    "sanitize_description",
    "source_labels",
    "with_edits",
]
