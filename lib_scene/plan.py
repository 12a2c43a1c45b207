"""The generation plan: one camera's canvases + ``PlanParams`` -> what the host must be told.

``build_plan`` is pure and deterministic (no clock, no randomness, no host): the same canvases and
parameters give the same plan. Every entry point shares it: the dropdown Script applies it to
``p``, the ``/scene-import/v1/plan`` route returns it, the CLI writes ``to_payload`` as JSON.

Host facts used here (see ../shared/host-contracts.md; sources: Mikubill/sd-webui-controlnet
@ 56cec5b = v1.1.455, hako-mikan/sd-webui-regional-prompter @ be62345):

* ControlNet units are dicts with ``enabled: true``, string ``resize_mode``/``control_mode``,
  ``module`` "none" (A1111 extension) or "None" (Forge builtin), an 8-bit RGB PNG at exactly the
  generation size, and never a ``mask`` key. Padded with ``{"enabled": false}`` to the slot count.
* Regional Prompter takes 20 positional args (``RP_ARG_NAMES``); the k-th palette colour present in
  the mask binds to the k-th region section after the base, and more colours than sections is an
  IndexError inside the U-Net. So the prompt is built from the colours present in the mask **after**
  it is resized to the generation size.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace

import numpy as np

from . import __version__
from .canvas import CanvasSet
from .depth import auto_plan, quantize
from .errors import SceneImportError
from .imaging import decode_png_b64, png_b64, resize_nearest, resize_smooth, to_rgb8, tonemap_srgb
from .palette import color_to_region, region_color
from .params import (
    CONTROL_MODES,
    RESIZE_MODES,
    ParamsError,
    PlanParams,
    RegionalParams,
    RegionParams,
    UnitParams,
    field_specs,
    params_schema,
)
from .splits import SplitPlan

__all__ = [
    "DEFAULT_MODELS",
    "RP_ARG_NAMES",
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
    "cn_units",
    "compose_prompt",
    "endpoint",
    "field_specs",
    "generation_size",
    "neutralise_keywords",
    "params_schema",
    "resolve_model",
    "rp_args",
    "to_payload",
]

PLAN_FORMAT = "scene-import-plan"
PLAN_VERSION = 1
HOSTS = ("a1111", "forge")

#: Used when the host's model list is unknown (the issue's defaults).
DEFAULT_MODELS = {
    "depth": "control_v11f1p_sd15_depth",
    "normal": "control_v11p_sd15_normalbae",
    "normal_midas": "control_sd15_normal",
}

#: Regional Prompter's 20 positional args, in the order of ``Script.ui()``'s return list,
#: scripts/rp.py lines 443-444 at hako-mikan/sd-webui-regional-prompter be62345
#: (``return [active, dummy_false, rp_selected_tab, mmode, xmode, pmode, ratios, baseratios,
#: usebase, usecom, usencom, calcmode, options, lnter, lnur, threshold, polymask, lstop, lstop_hr,
#: flipper]``), consumed by ``process()`` at line 446 under the same names.
RP_ARG_NAMES = (
    "active",  # 0  bool
    "debug",  # 1  dummy_false
    "mode",  # 2  rp_selected_tab: "Matrix" | "Mask" | "Prompt"
    "matrix_submode",  # 3  mmode, default "Columns"
    "mask_submode",  # 4  xmode, default "Mask"
    "prompt_submode",  # 5  pmode, default "Prompt"
    "divide_ratios",  # 6  ratios, default "1,1"
    "base_ratios",  # 7  baseratios (string), default "0.2"
    "use_base",  # 8  usebase
    "use_common",  # 9  usecom
    "use_ncommon",  # 10 usencom
    "calc_mode",  # 11 calcmode: "Attention" | "Latent"
    "options",  # 12 options; False = none (keeps AND -> BREAK conversion)
    "lora_neg_te",  # 13 lnter "0"
    "lora_neg_u",  # 14 lnur "0"
    "threshold",  # 15 "0.4"
    "mask",  # 16 polymask: a file path or a base64 PNG string
    "lora_stop",  # 17 lstop "0"
    "lora_hires_stop",  # 18 lstop_hr "0"
    "flip",  # 19 flipper False
)

#: RP's separator keywords; it replaces them as plain substrings (scripts/regions.py: ALLALLKEYS).
RP_KEYWORDS = ("ADDCOMM", "ADDBASE", "ADDCOL", "ADDROW", "ADDP", "BREAK", "AND")


class PlanError(SceneImportError):
    """A plan cannot be built or read."""


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True, eq=False)
class UnitSpec:
    """One ControlNet unit of a plan. ``image`` is (H, W, 3) uint8 at the generation size."""

    kind: str  # "depth" | "normal"
    model: str
    image: np.ndarray
    module: str = "none"
    weight: float = 0.3
    guidance_start: float = 0.0
    guidance_end: float = 0.5
    control_mode: str = "Balanced"
    resize_mode: str = "Just Resize"
    pixel_perfect: bool = False

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _UNIT_KEYS}
        d["image"] = png_b64(self.image)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> UnitSpec:
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

    mask: np.ndarray
    colors: tuple[int, ...]  # palette numbers present in the mask, ascending (= section order)
    base_ratio: float = 0.2
    use_base: bool = True
    use_common: bool = False
    calc: str = "Attention"
    mode: str = "Mask"

    def to_dict(self) -> dict:
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
    def from_dict(cls, d: dict) -> RegionalSpec:
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
    init_image: np.ndarray | None = None  # (H, W, 3) uint8 sRGB, img2img only
    units: tuple[UnitSpec, ...] = ()
    regional: RegionalSpec | None = None
    sections: tuple[str, ...] = ()  # the region sections of the prompt, in colour order
    regions: tuple[dict, ...] = ()  # region table rows (JSON-able)
    infotext: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    params: dict = field(default_factory=dict)  # PlanParams.to_dict() used
    source: dict = field(default_factory=dict)  # canvas size, layout, files

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
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
            "units": [u.to_dict() for u in self.units],
            "regional": None if self.regional is None else self.regional.to_dict(),
            "sections": list(self.sections),
            "regions": [dict(r) for r in self.regions],
            "infotext": dict(self.infotext),
            "warnings": list(self.warnings),
            "params": json.loads(json.dumps(self.params)),
            "source": json.loads(json.dumps(self.source)),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> GenerationPlan:
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
                units=tuple(UnitSpec.from_dict(u) for u in d["units"]),
                regional=None if d["regional"] is None else RegionalSpec.from_dict(d["regional"]),
                sections=tuple(str(s) for s in d["sections"]),
                regions=tuple(dict(r) for r in d["regions"]),
                infotext={str(k): str(v) for k, v in d["infotext"].items()},
                warnings=tuple(str(w) for w in d["warnings"]),
                params=dict(d["params"]),
                source=dict(d["source"]),
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
        if self.init_image is not None and self.init_image.shape != (*size, 3):
            raise PlanError("init image is not at the generation size")
        if self.mode == "img2img" and self.init_image is None:
            raise PlanError("an img2img plan needs an init image")
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
            if prompt_sections(self.prompt) != len(rp.colors) + (1 if (rp.use_base or rp.use_common) else 0):
                raise PlanError("the prompt's BREAK sections do not match the mask's colours plus the base")

    @property
    def endpoint(self) -> str:
        return endpoint(self)


def _ro(a: np.ndarray) -> np.ndarray:
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


def _model_name(m: str) -> str:
    return m.split(" [", 1)[0].strip().lower()


def choose_model(kind: str, available: list[str] | None, convention: str = "bae") -> str | None:
    """Pick a ControlNet model for ``kind`` ("depth" | "normal") from ``"name [hash8]"`` strings.

    Without a list, the default names. Ranked: the default model, then ControlNet 1.1 models of
    the kind, then sd15 ones, then any name holding the kind; ties by name. None when nothing fits.
    """
    if kind not in ("depth", "normal"):
        raise ValueError(f"unknown unit kind {kind!r}")
    key = "normal_midas" if kind == "normal" and convention == "midas" else kind
    if available is None:
        return DEFAULT_MODELS[key]
    default = DEFAULT_MODELS[key]

    def rank(m: str) -> int | None:
        n = _model_name(m)
        if kind == "depth":
            if "depth" not in n:
                return None
        else:
            if "normal" not in n:
                return None
            bae = "bae" in n
            if convention == "bae" and not bae and "v11" not in n:
                return 5
            if convention == "midas" and bae:
                return 5
        if n == default:
            return 0
        if "v11" in n:
            return 1
        if "sd15" in n:
            return 2
        return 3

    ranked = sorted((r, m) for m in available if m and m != "None" for r in [rank(m)] if r is not None)
    return ranked[0][1] if ranked else None


def resolve_model(
    kind: str, requested: str, available: list[str] | None, convention: str = "bae"
) -> tuple[str | None, str | None]:
    """(model, warning). ``requested`` "auto" chooses by kind; a name is matched to the list
    exactly, then without its hash (case-insensitive). Unknown names are an error with suggestions."""
    if requested.strip().lower() in ("auto", ""):
        model = choose_model(kind, available, convention)
        if model is None:
            shown = ", ".join(m for m in (available or []) if m != "None") or "none"
            return (
                None,
                f"no {kind} ControlNet model among the host's models ({shown}); the {kind} unit is off",
            )
        return model, None
    if available is None or requested in available:
        return requested, None
    want = _model_name(requested)
    for m in available:
        if _model_name(m) == want:
            return m, None
    import difflib

    close = difflib.get_close_matches(requested, [m for m in available if m != "None"], n=3, cutoff=0.4)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise PlanError(f"{kind} model {requested!r} is not among the host's ControlNet models{hint}")


def neutralise_keywords(text: str) -> tuple[str, list[str]]:
    """Lower-case Regional Prompter's keywords (it matches them as plain upper-case substrings) and
    join lines; returns (text, keywords found)."""
    found = [k for k in RP_KEYWORDS if k in text]
    out = " ".join(text.splitlines())
    for k in sorted(RP_KEYWORDS, key=len, reverse=True):
        out = out.replace(k, k.lower())
    return out.strip(), found


def prompt_sections(prompt: str) -> int:
    """Sections Regional Prompter sees in Mask mode: separators + 1 (ADDCOMM/ADDBASE/BREAK)."""
    return sum(prompt.count(k) for k in ("BREAK", "ADDCOMM", "ADDBASE")) + 1


def compose_prompt(base: str, sections: list[str], use_base: bool) -> tuple[str, bool]:
    """Regional Prompter Mask-mode prompt. Returns (prompt, use_common).

    * use_base: ``base BREAK s0 BREAK s1 ...``: the base is RP's base prompt (everywhere at the base
      ratio, and alone on unclaimed black pixels);
    * not use_base, base text given: ``base ADDCOMM s0 BREAK s1 ...`` with RP's "use common" on, so the
      base text is still prefixed to every region instead of becoming region 0;
    * not use_base, no base text: ``s0 BREAK s1 ...`` (black pixels join region 0, RP's rule).
    """
    regions = " BREAK ".join(s.strip() for s in sections)
    base = base.strip()
    if use_base:
        return (f"{base} BREAK {regions}".strip() if sections else base), False
    if base and sections:
        return f"{base} ADDCOMM {regions}", True
    return (regions if sections else base), False


def mask_colors(mask: np.ndarray) -> tuple[int, ...]:
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


def resolve_splits(cs: CanvasSet, params: PlanParams, preset: SplitPlan | None) -> SplitPlan | None:
    """The split plan a camera's depth map uses: the preset, ``params.splits``, else the automatic one."""
    if cs.depth is None:
        return None
    if preset is not None:
        return preset
    if isinstance(params.splits, dict):
        return SplitPlan.from_dict(params.splits, source="params.splits")
    if isinstance(params.splits, str):
        raise PlanError(
            "params.splits names a preset file; load it first (lib_scene.splits.load_preset) and pass it as "
            "build_plan(..., preset=...)",
            params.splits,
        )
    if not cs.hit.any():
        return None
    return auto_plan(cs.depth, cs.hit)


def _region_row(r) -> dict:
    row = {
        "number": int(r.number),
        "color": [int(c) for c in r.color],
        "indices": [int(i) for i in getattr(r, "indices", ()) or ()],
        "objects": [str(o) for o in getattr(r, "objects", ()) or ()],
        "description": None if r.description is None else str(r.description),
        "coverage": float(r.coverage),
        "median_depth": None if r.median_depth is None else float(r.median_depth),
    }
    return row


def _section_text(region, warnings: list[str]) -> str:
    text = region.description or ", ".join(str(o) for o in (getattr(region, "objects", None) or ()))
    if not text:
        return ""
    try:
        from .regions import sanitize_description  # issue 3's sanitiser, when merged
    except ImportError:  # pragma: no cover - exercised only before regions.py is merged
        sanitize_description = None
    if sanitize_description is not None:
        try:
            text = str(sanitize_description(text, warnings, what=f"region {region.number}"))
        except TypeError:  # an older signature without the warnings list
            text = str(sanitize_description(text))
    clean, found = neutralise_keywords(text)
    if found:
        warnings.append(f"region {region.number}: description held {', '.join(found)}; neutralised")
    return clean


def build_plan(
    cs: CanvasSet,
    params: PlanParams | None = None,
    preset: SplitPlan | None = None,
    descriptions=None,
    *,
    available_models: list[str] | None = None,
) -> GenerationPlan:
    """Build one camera's plan. Pure and deterministic; never mutates ``cs``.

    ``preset``: the split plan for the depth map (default: ``params.splits`` if it is an inline
    preset, else ``lib_scene.depth.auto_plan``). ``descriptions``: a ``lib_scene.regions.Descriptions``
    (default: the camera's sidecar). ``available_models``: the host's ControlNet models as
    ``"name [hash8]"`` strings (None: the default names).
    """
    params = params or PlanParams()
    warnings: list[str] = []
    width, height = generation_size(cs.width, cs.height, params.long_side)

    # -- depth unit
    split_plan = resolve_splits(cs, params, preset)
    units: list[UnitSpec] = []

    def unit(kind: str, up: UnitParams, image: np.ndarray) -> None:
        model, warn = resolve_model(kind, up.model, available_models, params.normal_convention)
        if warn:
            warnings.append(warn)
        if model is None:
            return
        units.append(
            UnitSpec(
                kind=kind,
                model=model,
                image=_ro(to_rgb8(resize_smooth(image, width, height))),
                module=up.module,
                weight=up.weight,
                guidance_start=up.guidance_start,
                guidance_end=up.guidance_end,
                control_mode=up.control_mode,
                resize_mode=up.resize_mode,
                pixel_perfect=up.pixel_perfect,
            )
        )

    if params.depth.enabled:
        if cs.depth is None:
            warnings.append(f"camera {cs.camera}: no depth canvas; the depth unit is off")
        elif split_plan is None:
            warnings.append(f"camera {cs.camera}: the depth canvas has no hit pixels; the depth unit is off")
        else:
            unit("depth", params.depth, quantize(cs.depth, cs.hit, split_plan))

    if params.normal.enabled:
        if cs.normal is None:
            warnings.append(f"camera {cs.camera}: no normal canvas; the normal unit is off")
        else:
            try:
                from .normals import normal_map
            except ImportError:
                warnings.append("normal maps need lib_scene.normals (not installed); the normal unit is off")
            else:
                try:
                    nmap = normal_map(cs, convention=params.normal_convention)
                except SceneImportError as exc:
                    warnings.append(f"camera {cs.camera}: normal map failed ({exc}); the normal unit is off")
                else:
                    unit("normal", params.normal, np.asarray(nmap, dtype=np.uint8))

    # -- regions
    regions = []
    mask = None
    try:
        from .regions import build_regions
    except ImportError:
        build_regions = None
        warnings.append("regions need lib_scene.regions (not installed); no Regional Prompter regions")
    if build_regions is not None and params.region_descriptions:
        from .regions import with_edits

        descriptions = with_edits(descriptions, params.region_descriptions, source="params")
    if build_regions is not None:
        rp = params.regions
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
            warnings.append(f"camera {cs.camera}: no regions ({exc.problem})")
        else:
            warnings.extend(str(w) for w in result.warnings)
            regions = list(result.regions)
            mask = np.asarray(result.mask, dtype=np.uint8) if regions else None

    base, found = neutralise_keywords(params.base_prompt)
    if found:
        warnings.append(f"base prompt held {', '.join(found)}; neutralised (they would shift the regions)")
    negative, found = neutralise_keywords(params.negative_prompt)
    if found:
        warnings.append(f"negative prompt held {', '.join(found)}; neutralised")

    regional = None
    sections: list[str] = []
    kept = []
    if regions and mask is not None:
        small = resize_nearest(mask, width, height)
        present = mask_colors(small)
        by_number = {int(r.number): r for r in regions}
        for n in present:
            if n not in by_number:
                raise PlanError(f"region mask colour {region_color(n)} (region {n}) has no region entry")
        for r in sorted(regions, key=lambda r: int(r.number)):
            if int(r.number) in present:
                kept.append(r)
            else:
                warnings.append(
                    f"region {r.number} ({r.description or ', '.join(getattr(r, 'objects', ()) or ())}) "
                    f"vanished at {width}x{height}; left out of the prompt"
                )
        if params.regional.enabled and kept:
            sections = [_section_text(r, warnings) for r in kept]
            prompt, use_common = compose_prompt(base, sections, params.regional.use_base)
            regional = RegionalSpec(
                mask=_ro(small),
                colors=present,
                base_ratio=params.regional.base_ratio,
                use_base=params.regional.use_base,
                use_common=use_common,
                calc=params.regional.calc,
                mode=params.regional.mode,
            )
        else:
            flat = [_section_text(r, warnings) for r in kept]
            prompt = ", ".join(s for s in [base, *flat] if s)
    else:
        prompt = base
        if params.regional.enabled and build_regions is not None:
            warnings.append(f"camera {cs.camera}: no regions found; Regional Prompter is left off")

    # -- init image
    init = None
    if params.mode == "img2img":
        if cs.beauty is None:
            raise PlanError(f"camera {cs.camera}: img2img needs a beauty (Combined) canvas", cs.primary_path)
        init = _ro(resize_smooth(tonemap_srgb(cs.beauty, params.tonemap), width, height))

    infotext = {
        "Scene Import": __version__,
        "Scene Import camera": cs.camera,
        "Scene Import params": params.to_json(),
    }
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
        init_image=init,
        units=tuple(units),
        regional=regional,
        sections=tuple(sections),
        regions=tuple(_region_row(r) for r in kept),
        infotext=infotext,
        warnings=tuple(warnings),
        params=params.to_dict(),
        source={
            "width": cs.width,
            "height": cs.height,
            "layout": cs.layout,
            "files": sorted(cs.channels),
            "splits": None if split_plan is None else split_plan.to_dict(),
        },
    )
    plan.check()
    return plan


def with_seed(plan: GenerationPlan, seed: int) -> GenerationPlan:
    """The same plan with another seed (e.g. one random seed resolved for every camera)."""
    return replace(plan, seed=int(seed))


# --------------------------------------------------------------------------- host payloads


def endpoint(plan: GenerationPlan) -> str:
    return f"/sdapi/v1/{plan.mode}"


def generation_fields(plan: GenerationPlan) -> dict:
    """The generation settings a plan hands the host, as A1111's request/processing field names:
    prompt, negative prompt, seed, size, one image; steps, CFG and sampler only when set (null
    leaves the host's own defaults)."""
    fields: dict = {
        "prompt": plan.prompt,
        "negative_prompt": plan.negative_prompt,
        "seed": plan.seed,
        "width": plan.width,
        "height": plan.height,
        "batch_size": 1,
        "n_iter": 1,
    }
    for key in ("steps", "cfg_scale", "sampler_name"):
        if getattr(plan, key) is not None:
            fields[key] = getattr(plan, key)
    return fields


def cn_units(plan: GenerationPlan, host: str = "a1111", slots: int | None = None) -> list[dict]:
    """ControlNet unit dicts for the host, padded with ``{"enabled": false}`` to ``slots``."""
    if host not in HOSTS:
        raise ValueError(f"host must be one of {HOSTS}, got {host!r}")
    units = []
    for u in plan.units:
        module = u.module
        if module.lower() == "none":
            module = "None" if host == "forge" else "none"
        units.append(
            {
                "enabled": True,
                "module": module,
                "model": u.model,
                "weight": u.weight,
                "image": png_b64(u.image),
                "resize_mode": u.resize_mode,
                "guidance_start": u.guidance_start,
                "guidance_end": u.guidance_end,
                "control_mode": u.control_mode,
                "pixel_perfect": u.pixel_perfect,
            }
        )
    if slots is not None:
        if len(units) > slots:
            raise PlanError(
                f"the plan has {len(units)} ControlNet units but the host has {slots} slots; "
                "raise ControlNet's unit count (Settings > ControlNet > Multi-ControlNet)"
            )
        units += [{"enabled": False} for _ in range(slots - len(units))]
    return units


def rp_args(plan: GenerationPlan) -> list | None:
    """Regional Prompter's 20 positional args (``RP_ARG_NAMES`` order), or None when it is off."""
    rp = plan.regional
    if rp is None:
        return None
    values = {
        "active": True,
        "debug": False,
        "mode": rp.mode,
        "matrix_submode": "Columns",
        "mask_submode": "Mask",
        "prompt_submode": "Prompt",
        "divide_ratios": "1,1",
        "base_ratios": f"{rp.base_ratio:g}",
        "use_base": rp.use_base,
        "use_common": rp.use_common,
        "use_ncommon": False,
        "calc_mode": rp.calc,
        "options": False,
        "lora_neg_te": "0",
        "lora_neg_u": "0",
        "threshold": "0.4",
        "mask": png_b64(rp.mask),
        "lora_stop": "0",
        "lora_hires_stop": "0",
        "flip": False,
    }
    return [values[k] for k in RP_ARG_NAMES]


def to_payload(plan: GenerationPlan, host: str = "a1111", unit_count: int = 3) -> dict:
    """The exact JSON body for ``/sdapi/v1/txt2img`` or ``/img2img`` (see ``endpoint(plan)``).

    ControlNet goes in ``alwayson_scripts["ControlNet"]["args"]`` (dict units, padded to
    ``unit_count``), Regional Prompter in ``alwayson_scripts["Regional Prompter"]["args"]`` (20 args).
    Parameters left null (steps, CFG, sampler) are omitted so the host's defaults apply.
    """
    if host not in HOSTS:
        raise ValueError(f"host must be one of {HOSTS}, got {host!r}")
    body = generation_fields(plan)
    if plan.mode == "img2img":
        body["init_images"] = [png_b64(plan.init_image)]
        body["denoising_strength"] = plan.denoising_strength
        body["resize_mode"] = 0  # "Just resize": the init image is already at the generation size
    scripts: dict = {}
    if plan.units:
        scripts["ControlNet"] = {"args": cn_units(plan, host, unit_count)}
    args = rp_args(plan)
    if args is not None:
        scripts["Regional Prompter"] = {"args": args}
    if scripts:
        body["alwayson_scripts"] = scripts
    return body


# --------------------------------------------------------------------------- several cameras


def select_cameras(sources: list, camera: str | None) -> list:
    """Keep the camera named ``camera`` (None/"": all; "a,b": several). Unknown names are an error."""
    if not camera:
        return list(sources)
    wanted = [c.strip() for c in camera.split(",") if c.strip()]
    names = [s.camera for s in sources]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise PlanError(
            f"no camera {', '.join(map(repr, missing))}; the scene has {', '.join(names) or 'none'}"
        )
    return [s for s in sources if s.camera in wanted]


def plan_scene(
    paths: list[str],
    params: PlanParams,
    preset: SplitPlan | None = None,
    descriptions=None,
    *,
    available_models: list[str] | None = None,
    layer: str | None = None,
) -> list[GenerationPlan]:
    """Load every camera under ``paths`` (files or folders; ``params.camera`` filters) and plan each.

    Reads files (unlike ``build_plan``): callers check the paths first. A string ``params.splits``
    must already be loaded into ``preset``.
    """
    from .canvas import discover, load_camera

    plans = []
    for src in select_cameras(discover(paths), params.camera):
        cs = load_camera(src, layer=layer)
        plans.append(build_plan(cs, params, preset, descriptions, available_models=available_models))
    return plans
