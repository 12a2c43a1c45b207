"""The generation plan: one camera's canvases + ``PlanParams`` -> what the host must be told.

``build_plan`` is pure and deterministic (no clock, no randomness, no host): the same canvases and
parameters give the same plan. Every entry point reaches it through ``lib_scene.request.resolve``
(one camera loop, one seed rule); the host's spelling of a plan is ``lib_scene.wire``.

Regional Prompter binds the k-th palette colour present in the mask to the k-th region section
after the base, and more colours than sections is an IndexError inside the U-Net. So the prompt is
built from the colours present in the mask **after** it is resized to the generation size, and an
edited prompt (``params.prompt``) must have exactly as many sections (:func:`prompt.check_sections`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import __version__
from .canvas import CanvasSet
from .depth import depth_splits, quantize, resolve_splits
from .errors import ParamsError, PlanError, SceneImportError
from .imaging import decode_png_b64, png_b64, resize_smooth, to_rgb8, tonemap_srgb
from .models import DEFAULT_MODELS, choose_model, resolve_model
from .normals import normal_map
from .notices import depth_map_notes, normal_map_notes
from .palette import color_to_region, region_color
from .params import (
    CONTROL_MODES,
    RESIZE_MODES,
    PlanParams,
    RegionalParams,
    RegionParams,
    UnitParams,
    field_specs,
    params_schema,
)
from .prompt import check_sections, compose, count_sections, flat, sanitize
from .regions import Descriptions, Region, build_regions, with_edits
from .splits import SplitPlan

__all__ = [
    "DEFAULT_MODELS",
    "GenerationPlan",
    "ParamsError",
    "PlanError",
    "PlanParams",
    "RegionalParams",
    "RegionalSpec",
    "RegionParams",
    "UnitParams",
    "UnitSpec",
    "build_plan",
    "choose_model",
    "depth_splits",
    "field_specs",
    "generation_size",
    "mask_colors",
    "params_schema",
    "resolve_model",
    "resolve_splits",
    "with_seed",
]

U8Image = NDArray[np.uint8]
JSON = dict[str, Any]

PLAN_FORMAT = "scene-import-plan"
PLAN_VERSION = 1

#: Warnings when the host lacks an extension (the plan leaves its part out).
NO_CONTROLNET = "ControlNet is not installed: the depth and normal units are skipped"
NO_REGIONAL_PROMPTER = "Regional Prompter is not installed: regions are skipped and the prompt is flattened"


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True, eq=False)
class UnitSpec:
    """One ControlNet unit of a plan. ``image`` is (H, W, 3) uint8 at the generation size."""

    kind: str  # "depth" | "normal"
    model: str
    image: U8Image
    module: str = "none"
    weight: float = 0.3
    guidance_start: float = 0.0
    guidance_end: float = 0.5
    control_mode: str = "Balanced"
    resize_mode: str = "Just Resize"
    pixel_perfect: bool = False

    def to_dict(self) -> JSON:
        d = {k: getattr(self, k) for k in _UNIT_KEYS}
        d["image"] = png_b64(self.image)
        return d

    @classmethod
    def from_dict(cls, d: JSON) -> UnitSpec:
        if not isinstance(d, dict) or set(d) != set(_UNIT_KEYS) | {"image"}:
            raise PlanError(f"a plan unit needs exactly the keys {sorted([*_UNIT_KEYS, 'image'])}")
        if d["control_mode"] not in CONTROL_MODES or d["resize_mode"] not in RESIZE_MODES:
            raise PlanError(f"plan unit {d.get('kind')!r} has an invalid control or resize mode")
        img = to_rgb8(decode_png_b64(d["image"], f"{d['kind']} unit image"))
        return cls(image=_ro(img), **{k: d[k] for k in _UNIT_KEYS})


_UNIT_KEYS = (
    "kind",
    "model",
    "module",
    "weight",
    "guidance_start",
    "guidance_end",
    "control_mode",
    "resize_mode",
    "pixel_perfect",
)


@dataclass(frozen=True, eq=False)
class RegionalSpec:
    """Regional Prompter in Mask mode. ``mask`` is (H, W, 3) uint8: exact palette colours, black elsewhere."""

    mask: U8Image
    colors: tuple[int, ...]  # palette numbers present in the mask, ascending (= section order)
    base_ratio: float = 0.2
    use_base: bool = True
    use_common: bool = False
    calc: str = "Attention"
    mode: str = "Mask"

    def to_dict(self) -> JSON:
        return {
            "mode": self.mode,
            "base_ratio": self.base_ratio,
            "use_base": self.use_base,
            "use_common": self.use_common,
            "calc": self.calc,
            "colors": list(self.colors),
            "mask": png_b64(self.mask),
        }

    @classmethod
    def from_dict(cls, d: JSON) -> RegionalSpec:
        keys = {"mode", "base_ratio", "use_base", "use_common", "calc", "colors", "mask"}
        if not isinstance(d, dict) or set(d) != keys:
            raise PlanError(f"a plan's 'regional' entry needs exactly the keys {sorted(keys)}")
        mask = to_rgb8(decode_png_b64(d["mask"], "region mask"))
        return cls(
            mask=_ro(mask),
            colors=tuple(int(c) for c in d["colors"]),
            base_ratio=float(d["base_ratio"]),
            use_base=bool(d["use_base"]),
            use_common=bool(d["use_common"]),
            calc=str(d["calc"]),
            mode=str(d["mode"]),
        )


@dataclass(frozen=True, eq=False)
class GenerationPlan:
    """Everything one camera's generation needs; pure data. See the module doc."""

    camera: str
    mode: str  # "txt2img" | "img2img"
    width: int
    height: int
    prompt: str
    negative_prompt: str
    seed: int = -1
    steps: int | None = None
    cfg_scale: float | None = None
    sampler_name: str | None = None
    denoising_strength: float | None = None  # img2img only
    init_image: U8Image | None = None  # (H, W, 3) uint8 sRGB, img2img only
    mask: U8Image | None = None  # (H, W) uint8, img2img inpaint only: 255 = paint here, 0 = keep
    mask_blur: int = 0  # inpaint: A1111's mask blur (px)
    inpainting_fill: int = 1  # inpaint: 0 fill, 1 original, 2 latent noise, 3 latent nothing
    inpaint_full_res: bool = False  # inpaint: False = the whole picture (the context matters)
    units: tuple[UnitSpec, ...] = ()
    regional: RegionalSpec | None = None
    sections: tuple[str, ...] = ()  # the region sections of the prompt, in colour order
    regions: tuple[JSON, ...] = ()  # region table rows (JSON-able)
    infotext: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    params: JSON = field(default_factory=dict)  # PlanParams.to_dict() used
    source: JSON = field(default_factory=dict)  # canvas size, layout, files
    animation: JSON = field(default_factory=dict)  # frame, travel position, variation (lib_scene.animation)
    chain: JSON = field(default_factory=dict)  # chained runs: {"step", "order", ...}; {} otherwise
    #: (H, W) uint8 quantised depth at the generation size, near = white, whether or not a ControlNet
    #: depth unit uses it: what an SD 2 depth model is conditioned on instead of MiDaS.
    depth_map: U8Image | None = None

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> JSON:
        """JSON-serialisable; images are base64 PNGs. ``from_dict(to_dict())`` gives an equal plan."""
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "camera": self.camera,
            "mode": self.mode,
            "width": self.width,
            "height": self.height,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "steps": self.steps,
            "cfg_scale": self.cfg_scale,
            "sampler_name": self.sampler_name,
            "denoising_strength": self.denoising_strength,
            "init_image": None if self.init_image is None else png_b64(self.init_image),
            "mask": None if self.mask is None else png_b64(self.mask),
            "mask_blur": self.mask_blur,
            "inpainting_fill": self.inpainting_fill,
            "inpaint_full_res": self.inpaint_full_res,
            "units": [u.to_dict() for u in self.units],
            "regional": None if self.regional is None else self.regional.to_dict(),
            "sections": list(self.sections),
            "regions": [dict(r) for r in self.regions],
            "infotext": dict(self.infotext),
            "warnings": list(self.warnings),
            "params": json.loads(json.dumps(self.params)),
            "source": json.loads(json.dumps(self.source)),
            "animation": json.loads(json.dumps(self.animation)),
            "chain": json.loads(json.dumps(self.chain)),
            "depth_map": None if self.depth_map is None else png_b64(self.depth_map),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: JSON) -> GenerationPlan:
        if not isinstance(d, dict) or d.get("format") != PLAN_FORMAT:
            raise PlanError(f'not a Scene Import plan (expected "format": "{PLAN_FORMAT}")')
        if d.get("version") != PLAN_VERSION:
            raise PlanError(
                f"unsupported plan version {d.get('version')!r} (this build reads {PLAN_VERSION})"
            )
        try:
            if d["mode"] not in ("txt2img", "img2img"):
                raise PlanError(f"plan mode must be txt2img or img2img, got {d['mode']!r}")
            plan = cls(
                camera=str(d["camera"]),
                mode=d["mode"],
                width=int(d["width"]),
                height=int(d["height"]),
                prompt=str(d["prompt"]),
                negative_prompt=str(d["negative_prompt"]),
                seed=int(d["seed"]),
                steps=d["steps"],
                cfg_scale=d["cfg_scale"],
                sampler_name=d["sampler_name"],
                denoising_strength=d["denoising_strength"],
                init_image=None
                if d["init_image"] is None
                else _ro(to_rgb8(decode_png_b64(d["init_image"], "init image"))),
                mask=_mask_of(d.get("mask")),
                mask_blur=int(d.get("mask_blur", 0)),
                inpainting_fill=int(d.get("inpainting_fill", 1)),
                inpaint_full_res=bool(d.get("inpaint_full_res", False)),
                units=tuple(UnitSpec.from_dict(u) for u in d["units"]),
                regional=None if d["regional"] is None else RegionalSpec.from_dict(d["regional"]),
                sections=tuple(str(s) for s in d["sections"]),
                regions=tuple(dict(r) for r in d["regions"]),
                infotext={str(k): str(v) for k, v in d["infotext"].items()},
                warnings=tuple(str(w) for w in d["warnings"]),
                params=dict(d["params"]),
                source=dict(d["source"]),
                animation=dict(d.get("animation") or {}),
                chain=dict(d.get("chain") or {}),
                depth_map=_depth_map_from(d.get("depth_map")),
            )
        except KeyError as exc:
            raise PlanError(f"plan lacks {exc.args[0]!r}") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise PlanError(f"malformed plan ({exc})") from exc
        plan.check()
        return plan

    @classmethod
    def from_json(cls, text: str) -> GenerationPlan:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise PlanError(f"plan is not valid JSON (line {exc.lineno}: {exc.msg})") from exc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenerationPlan):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # ----------------------------------------------------------------- checks
    def check(self) -> None:
        """The invariants every plan keeps (sizes, BREAK sections vs mask colours)."""
        size = (self.height, self.width)
        if self.width % 8 or self.height % 8 or self.width < 8 or self.height < 8:
            raise PlanError(f"plan size {self.width}x{self.height} is not a positive multiple of 8")
        for u in self.units:
            if u.image.shape != (*size, 3) or u.image.dtype != np.uint8:
                raise PlanError(f"{u.kind} unit image is {u.image.shape}, not {self.height}x{self.width} RGB")
        if self.depth_map is not None and (self.depth_map.shape != size or self.depth_map.dtype != np.uint8):
            raise PlanError(f"depth map is {self.depth_map.shape}, not {self.height}x{self.width} grey")
        if self.init_image is not None and self.init_image.shape != (*size, 3):
            raise PlanError("init image is not at the generation size")
        if self.mode == "img2img" and self.init_image is None:
            raise PlanError("an img2img plan needs an init image")
        _check_inpaint(self)
        if self.regional is not None:
            rp = self.regional
            if rp.mask.shape != (*size, 3):
                raise PlanError("region mask is not at the generation size")
            present = mask_colors(rp.mask)
            if present != rp.colors:
                raise PlanError(f"region mask holds colours {present}, the plan lists {rp.colors}")
            if len(self.sections) != len(rp.colors):
                raise PlanError(
                    f"{len(self.sections)} region sections for {len(rp.colors)} mask colours; "
                    "Regional Prompter binds them one to one"
                )
            if count_sections(self.prompt) != len(rp.colors) + (1 if (rp.use_base or rp.use_common) else 0):
                raise PlanError("the prompt's BREAK sections do not match the mask's colours plus the base")


def _check_inpaint(plan: GenerationPlan) -> None:
    """An inpaint mask: on an img2img plan, (H, W) uint8 at the generation size, valid settings."""
    if plan.mask is None:
        return
    if plan.mode != "img2img":
        raise PlanError("an inpaint mask needs an img2img plan")
    if plan.mask.shape != (plan.height, plan.width) or plan.mask.dtype != np.uint8:
        raise PlanError(f"inpaint mask is {plan.mask.shape}, not {plan.height}x{plan.width} grey")
    if plan.inpainting_fill not in (0, 1, 2, 3) or plan.mask_blur < 0:
        raise PlanError("inpainting_fill must be 0..3 and mask_blur at least 0")


def _mask_of(b64: object) -> U8Image | None:
    if b64 is None:
        return None
    img = np.asarray(decode_png_b64(str(b64), "inpaint mask"))
    if img.ndim == 3:
        img = img[..., 0]
    return _ro(np.asarray(img, dtype=np.uint8))


def _ro(a: NDArray[Any]) -> U8Image:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------- pure helpers


def generation_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The canvas aspect with ``long_side`` (0: the canvas's own long side), both sides multiples of 8.

    The long side is rounded to the nearest multiple of 8, halves up (at least 64), the short side to the
    multiple of 8 nearest the exact aspect (at least 8).
    """
    if width < 1 or height < 1:
        raise PlanError(f"canvas size {width}x{height} is empty")

    def snap(x: float) -> int:  # nearest multiple of 8, halves up
        return int(math.floor(x / 8.0 + 0.5)) * 8

    long_px = max(64, snap(long_side if long_side else max(width, height)))
    scale = long_px / max(width, height)
    w = max(8, snap(width * scale))
    h = max(8, snap(height * scale))
    if width >= height:
        w = long_px
    else:
        h = long_px
    return w, h


def mask_colors(mask: NDArray[Any]) -> tuple[int, ...]:
    """Palette numbers present in an RGB mask, ascending (black and unknown colours ignored).

    Linear time: a presence table over all 2**24 colours instead of sorting the pixels.
    """
    m = np.asarray(mask, dtype=np.uint8)
    keys = (m[..., 0].astype(np.uint32) << 16) | (m[..., 1].astype(np.uint32) << 8) | m[..., 2]
    present = np.zeros(1 << 24, dtype=bool)
    present[keys.ravel()] = True
    uniq = np.flatnonzero(present)
    rgb = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=-1).astype(np.uint8)
    idx = color_to_region(rgb[None])[0]  # the first 256 palette colours are distinct
    return tuple(sorted(int(i) for i in idx if i >= 0))


# --------------------------------------------------------------------------- building


def _region_row(r: Region) -> JSON:
    return {
        "number": int(r.number),
        "color": [int(c) for c in r.color],
        "indices": [int(i) for i in r.indices],
        "objects": [str(o) for o in r.objects],
        "description": str(r.description),
        "coverage": float(r.coverage),
        "median_depth": None if r.median_depth is None else float(r.median_depth),
    }


@dataclass
class _Draft:
    """What ``build_plan`` has decided so far for one camera."""

    cs: CanvasSet
    params: PlanParams
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)
    units: list[UnitSpec] = field(default_factory=list)
    kept: list[Region] = field(default_factory=list)
    mask: U8Image | None = None  # the region mask at the generation size
    colors: tuple[int, ...] = ()

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def _add_unit(d: _Draft, kind: str, up: UnitParams, image: NDArray[Any], models: list[str] | None) -> None:
    model, warn = resolve_model(kind, up.model, models, d.params.normal_convention)
    if warn:
        d.warn(warn)
    if model is None:
        return
    d.units.append(
        UnitSpec(
            kind=kind,
            model=model,
            image=_ro(to_rgb8(resize_smooth(image, d.width, d.height))),
            module=up.module,
            weight=up.weight,
            guidance_start=up.guidance_start,
            guidance_end=up.guidance_end,
            control_mode=up.control_mode,
            resize_mode=up.resize_mode,
            pixel_perfect=up.pixel_perfect,
        )
    )


def _depth_map_from(value: object) -> U8Image | None:
    if value is None:
        return None
    img = decode_png_b64(str(value), "depth map")
    grey = img if img.ndim == 2 else img[..., 0]
    return _ro(np.ascontiguousarray(grey, dtype=np.uint8))


def _grey_depth(d: _Draft, split_plan: SplitPlan | None) -> NDArray[np.uint8] | None:
    """The quantised depth map (canvas size), or None without depth or hits."""
    if d.cs.depth is None or split_plan is None:
        return None
    return np.asarray(quantize(d.cs.depth, d.cs.hit, split_plan), dtype=np.uint8)


#: A plan's normal map made beforehand (:func:`plan_normal_map`): the map, or why it failed.
MadeNormal = U8Image | SceneImportError


def plan_normal_map(cs: CanvasSet, convention: str) -> MadeNormal:
    """The normal map a plan of ``cs`` uses (canvas size), or the error that stopped it. A caller
    may make it first and drop the float normal canvas before :func:`build_plan` (``made_normal=``):
    at 8192² that canvas is 805 MB, otherwise held through the depth and region stages."""
    try:
        return normal_map(cs, convention=convention)
    except SceneImportError as exc:
        return exc


def _units(
    d: _Draft,
    split_plan: SplitPlan | None,
    models: list[str] | None,
    grey: NDArray[np.uint8] | None,
    made_normal: MadeNormal | None,
) -> None:
    """The depth and normal ControlNet units (``made_normal``: see :func:`plan_normal_map`)."""
    cs, params = d.cs, d.params
    if params.depth.enabled:
        if cs.depth is None:
            d.warn(f"camera {cs.camera}: no depth canvas; the depth unit is off")
        elif grey is None:
            d.warn(f"camera {cs.camera}: the depth canvas has no hit pixels; the depth unit is off")
        else:
            d.warnings.extend(depth_map_notes(cs.camera, grey, cs.hit, cs.depth_unit))
            _add_unit(d, "depth", params.depth, grey, models)
    if params.normal.enabled:
        nmap = made_normal
        if nmap is None:
            if cs.normal is None:
                d.warn(f"camera {cs.camera}: no normal canvas; the normal unit is off")
                return
            nmap = plan_normal_map(cs, params.normal_convention)
        if isinstance(nmap, SceneImportError):
            d.warn(f"camera {cs.camera}: normal map failed ({nmap}); the normal unit is off")
            return
        d.warnings.extend(normal_map_notes(cs.camera, np.asarray(nmap)))
        _add_unit(d, "normal", params.normal, np.asarray(nmap, dtype=np.uint8), models)


def _regions(d: _Draft, descriptions: Descriptions | None, split_plan: SplitPlan | None) -> None:
    """Build the regions (``params.regions``) and keep those still present at the generation size."""
    cs, rp = d.cs, d.params.regions
    descriptions = with_edits(descriptions, d.params.region_descriptions, source="params")
    try:
        result = build_regions(
            cs,
            descriptions=descriptions,
            source=rp.source,
            threshold=rp.threshold,
            order=rp.order,
            grow=rp.grow,
            splits=split_plan,
        )
    except SceneImportError as exc:
        d.warn(f"camera {cs.camera}: no regions ({exc.problem})")
        return
    d.warnings.extend(result.warnings)
    if not result.regions:
        return
    small = result.mask_at(d.width, d.height)
    present = mask_colors(small)
    by_number = {r.number: r for r in result.regions}
    for n in present:
        if n not in by_number:
            raise PlanError(f"region mask colour {region_color(n)} (region {n}) has no region entry")
    for r in result.regions:
        if r.number in present:
            d.kept.append(r)
        else:
            d.warn(
                f"region {r.number} ({r.description}) vanished at {d.width}x{d.height}; left out of the prompt"
            )
    d.mask, d.colors = _ro(small), present


def _edited_prompt(d: _Draft, prompt: str, regional: bool) -> tuple[str, bool]:
    """The artist's whole prompt, verbatim; with regions its sections must fit them."""
    use_base = d.params.regional.use_base
    if not regional:
        return prompt, False
    ok, message = check_sections(prompt, len(d.kept), use_base)
    if not ok:
        raise PlanError(f"camera {d.cs.camera}: the edited prompt does not fit the regions: {message}")
    return prompt, (not use_base) and "ADDCOMM" in prompt


def _prompt(d: _Draft, regional_prompter: bool) -> tuple[str, str, RegionalSpec | None, tuple[str, ...]]:
    """(prompt, negative prompt, Regional Prompter spec, region sections)."""
    params, cs = d.params, d.cs
    base = sanitize(params.base_prompt, d.warnings, "base prompt")
    negative = sanitize(params.negative_prompt, d.warnings, "negative prompt")
    sections = tuple(r.description for r in d.kept)
    wanted = params.regional.enabled and bool(d.kept) and d.mask is not None
    if wanted and not regional_prompter:
        d.warn(NO_REGIONAL_PROMPTER)
    elif params.regional.enabled and not d.kept:
        d.warn(f"camera {cs.camera}: no regions found; Regional Prompter is left off")
    regional = wanted and regional_prompter
    if params.prompt is not None:
        prompt, use_common = _edited_prompt(d, params.prompt, regional)
    elif regional:
        prompt, use_common = compose(base, sections, params.regional.use_base)
    else:
        prompt, use_common = flat(base, sections), False
    if not regional or d.mask is None:
        return prompt, negative, None, sections
    spec = RegionalSpec(
        mask=d.mask,
        colors=d.colors,
        base_ratio=params.regional.base_ratio,
        use_base=params.regional.use_base,
        use_common=use_common,
        calc=params.regional.calc,
        mode=params.regional.mode,
    )
    return prompt, negative, spec, sections


def _init_image(d: _Draft) -> U8Image | None:
    cs = d.cs
    if d.params.mode != "img2img":
        return None
    if cs.beauty is None:
        raise PlanError(f"camera {cs.camera}: img2img needs a beauty (Combined) canvas", cs.primary_path)
    return _ro(resize_smooth(tonemap_srgb(cs.beauty, d.params.tonemap), d.width, d.height))


def build_plan(
    cs: CanvasSet,
    params: PlanParams | None = None,
    preset: SplitPlan | None = None,
    descriptions: Descriptions | None = None,
    *,
    available_models: list[str] | None = None,
    controlnet: bool = True,
    regional_prompter: bool = True,
    made_normal: MadeNormal | None = None,
) -> GenerationPlan:
    """Build one camera's plan. Pure and deterministic; never mutates ``cs``.

    ``preset``: the split plan for the depth map (default: ``params.splits`` if it is an inline
    preset, else ``lib_scene.depth.auto_plan``). ``descriptions``: a ``lib_scene.regions.Descriptions``
    (default: the camera's sidecar). ``available_models``: the host's ControlNet models as
    ``"name [hash8]"`` strings (None: the default names). ``controlnet`` / ``regional_prompter``:
    whether the host has them (without ControlNet no units; without RP a flat prompt).
    ``made_normal``: :func:`plan_normal_map` of this camera with ``params.normal_convention``, made
    by a caller that then dropped ``cs.normal`` (the plan is the same).
    """
    params = params or PlanParams()
    width, height = generation_size(cs.width, cs.height, params.long_side)
    d = _Draft(cs, params, width, height, warnings=list(cs.warnings))
    split_plan = resolve_splits(cs, params, preset)
    grey = _grey_depth(d, split_plan)
    if controlnet:
        _units(d, split_plan, available_models, grey, made_normal)
    elif params.depth.enabled or params.normal.enabled:
        d.warn(NO_CONTROLNET)
    _regions(d, descriptions, split_plan)
    prompt, negative, regional, sections = _prompt(d, regional_prompter)
    plan = GenerationPlan(
        camera=cs.camera,
        mode=params.mode,
        width=width,
        height=height,
        prompt=prompt,
        negative_prompt=negative,
        seed=params.seed,
        steps=params.steps,
        cfg_scale=params.cfg_scale,
        sampler_name=params.sampler_name,
        denoising_strength=params.denoise if params.mode == "img2img" else None,
        init_image=_init_image(d),
        units=tuple(d.units),
        regional=regional,
        sections=sections if regional is not None else (),
        regions=tuple(_region_row(r) for r in d.kept),
        infotext={
            "Scene Import": __version__,
            "Scene Import camera": cs.camera,
            "Scene Import params": params.to_json(),
        },
        warnings=tuple(dict.fromkeys(d.warnings)),
        params=params.to_dict(),
        source={
            "width": cs.width,
            "height": cs.height,
            "layout": cs.layout,
            "files": sorted(cs.channels),
            "splits": None if split_plan is None else split_plan.to_dict(),
        },
        depth_map=None if grey is None else _ro(resize_smooth(grey, width, height)),
    )
    plan.check()
    return plan


def with_seed(plan: GenerationPlan, seed: int) -> GenerationPlan:
    """The same plan with another seed (e.g. one random seed resolved for every camera)."""
    return replace(plan, seed=int(seed))
