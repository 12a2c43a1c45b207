"""``PlanParams``: every default of a generation plan, in one place, validated.

One params model serves every entry point: the dropdown Script (its hidden JSON box), the API
(``script_args: [{...}]``), A1111's Settings (one option per field), the ``/scene-import/v1``
routes and the CLI (``--params JSON``). Plain frozen dataclasses, no pydantic (A1111 pins pydantic 1,
Forge pydantic 2).

Input is a nested dict (``{"depth": {"weight": 0.4}}``) or dotted keys (``{"depth.weight": 0.4}``),
applied over the defaults (or over ``base``, e.g. the Settings' defaults). Every problem is
collected and reported together; unknown keys are named with close-match suggestions.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ParamsError
from .frames import parse_frames
from .jsonio import parse_json
from .travel import check_travel, check_variations


class ParamsJSONError(ParamsError):
    """Params text that is not usable JSON (one problem; same status as every ParamsError)."""

    def __init__(self, problem: str, path: str | None = None) -> None:
        super().__init__([problem], path)


__all__ = [
    "CONTROL_MODES",
    "ChainParams",
    "REGION_SOURCES",
    "RESIZE_MODES",
    "ParamsError",
    "PlanParams",
    "RegionParams",
    "RegionalParams",
    "Spec",
    "UnitParams",
    "field_specs",
    "params_schema",
]

DEFAULT_LONG_SIDE = 512
CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important")
RESIZE_MODES = ("Just Resize", "Crop and Resize", "Resize and Fill")
REGION_SOURCES = (
    "auto",
    "index",
    "material",
    "splits",
    "cryptomatte",
)  # or "aov:<NAME>", "cryptomatte:<LAYER>"


@dataclass(frozen=True)
class Spec:
    kind: str  # bool | int | float | str | choice | splits | source | descmap | names
    label: str
    help: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False
    settings: bool = True  # offered in A1111's Settings


def _p(default: Any, kind: str, label: str, help: str = "", **kw: Any) -> Any:
    return field(default=default, metadata={"spec": Spec(kind, label, help, **kw)})


@dataclass(frozen=True)
class UnitParams:
    """One ControlNet unit (depth or normal). The image is made by the plan; the rest is here."""

    enabled: bool = _p(True, "bool", "enabled")
    model: str = _p(
        "auto",
        "str",
        "model",
        '"auto" picks by kind from the host\'s ControlNet models; or a name like "control_v11f1p_sd15_depth [cfd03158]"',
    )
    module: str = _p("none", "str", "preprocessor", '"none" passes the map through ("None" is sent to Forge)')
    weight: float = _p(0.3, "float", "weight", lo=0.0, hi=2.0)
    guidance_start: float = _p(0.0, "float", "guidance start", lo=0.0, hi=1.0)
    guidance_end: float = _p(0.5, "float", "guidance end", lo=0.0, hi=1.0)
    control_mode: str = _p("Balanced", "choice", "control mode", choices=CONTROL_MODES)
    resize_mode: str = _p(
        "Just Resize", "choice", "resize mode", "maps are sent at the generation size", choices=RESIZE_MODES
    )
    pixel_perfect: bool = _p(False, "bool", "pixel perfect")


@dataclass(frozen=True)
class RegionalParams:
    """Regional Prompter (Mask mode) settings."""

    enabled: bool = _p(True, "bool", "enabled", "off: no RP args, a flat prompt")
    mode: str = _p(
        "Mask", "choice", "divide mode", "only Mask mode is driven by a region mask", choices=("Mask",)
    )
    base_ratio: float = _p(0.2, "float", "base ratio", lo=0.0, hi=1.0)
    use_base: bool = _p(
        True, "bool", "use base prompt", "the base prompt covers everything and unclaimed pixels"
    )
    calc: str = _p("Attention", "choice", "generation mode", choices=("Attention", "Latent"))


@dataclass(frozen=True)
class RegionParams:
    """How regions are found (passed to ``lib_scene.regions.build_regions``)."""

    source: str = _p(
        "auto",
        "source",
        "region source",
        'auto, index, material, splits, cryptomatte, "cryptomatte:<LAYER>" or "aov:<NAME>"',
    )
    threshold: float = _p(0.005, "float", "visibility threshold", "minimum frame coverage", lo=0.0, hi=1.0)
    grow: int = _p(1, "int", "seam growth (px)", lo=0, hi=64)
    order: str = _p(
        "depth",
        "choice",
        "order",
        "nearest first by visible depth, or sidecar distance",
        choices=("depth", "distance"),
    )


@dataclass(frozen=True)
class ChainParams:
    """Chained generation (``lib_scene.chain``): each camera after the first is an img2img inpaint of
    what the cameras before it painted, warped into it; only what it sees for the first time is painted."""

    enabled: bool = _p(False, "bool", "chain cameras", "off: every camera is generated on its own")
    order: tuple[str, ...] | None = _p(
        None,
        "names",
        "camera order",
        "null: nearest-pose order from the first camera; or camera names (a list or 'Cam0,Cam2,Cam1')",
        nullable=True,
        settings=False,
    )
    denoise: float = _p(
        0.75,
        "float",
        "denoise of the painted area",
        "img2img denoising strength of the inpaint; the area to paint starts from the tone-mapped beauty",
        lo=0.0,
        hi=1.0,
    )
    feather: int = _p(
        4,
        "int",
        "mask feather (px)",
        "the paint mask grows by a quarter of this (edge pixels are repainted) and is blurred by this much (A1111's mask blur)",
        lo=0,
        hi=64,
    )
    blend: float = _p(
        0.0,
        "float",
        "seam blend pass",
        "denoising strength of a light whole-image img2img pass after each inpaint; 0: off "
        "(carried content stays exactly as painted)",
        lo=0.0,
        hi=1.0,
    )


_GROUPS = {
    "depth": UnitParams,
    "normal": UnitParams,
    "regional": RegionalParams,
    "regions": RegionParams,
    "chain": ChainParams,
}


@dataclass(frozen=True)
class PlanParams:
    """All parameters of a plan, with their defaults. ``from_dict`` validates."""

    mode: str = _p(
        "txt2img",
        "choice",
        "mode",
        "img2img uses the tone-mapped beauty as init image",
        choices=("txt2img", "img2img"),
    )
    long_side: int = _p(
        DEFAULT_LONG_SIDE,
        "int",
        "long side (px)",
        "generation size: the canvas aspect with this long side, both sides snapped to multiples of 8; "
        "0 keeps the canvas size",
        lo=0,
        hi=8192,
    )
    base_prompt: str = _p("", "str", "base prompt", "style/quality text; empty in the Script: the UI prompt")
    negative_prompt: str = _p("", "str", "negative prompt", "empty in the Script: the UI negative prompt")
    prompt: str | None = _p(
        None,
        "str",
        "prompt (edited)",
        "the whole prompt as edited; null: assembled from the base prompt and the regions. Used verbatim; "
        "with regions its BREAK sections must match them",
        nullable=True,
        settings=False,
    )
    seed: int = _p(-1, "int", "seed", "-1: random, one seed shared by every camera", lo=-1, hi=2**32 - 1)
    steps: int | None = _p(None, "int", "steps", "null: the host's/UI's value", lo=1, hi=150, nullable=True)
    cfg_scale: float | None = _p(
        None, "float", "CFG scale", "null: the host's/UI's value", lo=1.0, hi=30.0, nullable=True
    )
    sampler_name: str | None = _p(None, "str", "sampler", "null: the host's/UI's value", nullable=True)
    denoise: float = _p(0.52, "float", "denoising strength (img2img)", lo=0.0, hi=1.0)
    tonemap: str = _p(
        "standard",
        "choice",
        "beauty tone map (img2img)",
        "standard = clip + sRGB (Blender Standard); reinhard keeps highlights",
        choices=("standard", "reinhard"),
    )
    normal_convention: str = _p(
        "bae", "choice", "normal convention", "bae (ControlNet 1.1) or midas (1.0)", choices=("bae", "midas")
    )
    depth: UnitParams = field(default_factory=UnitParams)
    normal: UnitParams = field(default_factory=UnitParams)
    regional: RegionalParams = field(default_factory=RegionalParams)
    regions: RegionParams = field(default_factory=RegionParams)
    chain: ChainParams = field(default_factory=ChainParams)
    splits: dict[str, Any] | str | None = _p(
        None,
        "splits",
        "split preset",
        "null: automatic; a preset object, or a preset file path",
        nullable=True,
    )
    descriptions: str | None = _p(
        None, "str", "descriptions file", "null: the sidecars", nullable=True, settings=False
    )
    region_descriptions: dict[str, str] | None = _p(
        None,
        "descmap",
        "descriptions by pass index",
        'e.g. {"3": "a grey fabric sofa"}: override the sidecar/descriptions file for those indices',
        nullable=True,
        settings=False,
    )
    scene: str | None = _p(
        None, "str", "scene folder", "server folder inside an allowed root", nullable=True, settings=False
    )
    camera: str | None = _p(None, "str", "camera", "null: every camera found", nullable=True, settings=False)
    frames: int | str | None = _p(
        None,
        "frames",
        "frames",
        'a sequence camera: "A-B" selects frames (null: all); a still camera: N makes an N-frame morph '
        '(frames 0..N-1), "A-B" frames A..B',
        nullable=True,
        settings=False,
    )
    travel: dict[str, Any] | None = _p(
        None,
        "travel",
        "prompt travel",
        '{"keyframes": [{"frame": 0, "base_prompt": "...", "descriptions": {"5": "a steel chair"}}, '
        '{"frame": 24, ...}], "interpolation": "slerp" | "linear"}: the text conditioning is interpolated '
        "between keyframes",
        nullable=True,
        settings=False,
    )
    variations: dict[str, Any] | None = _p(
        None,
        "variations",
        "variations",
        '{"count": N, "sigma": 0.02}: N images, seed fixed, the conditioning walked by Gaussian noise '
        '(variation 0 = the plain image); "index": k generates only variation k',
        nullable=True,
        settings=False,
    )

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, base: PlanParams | None = None) -> PlanParams:
        """Validate ``data`` over ``base`` (default: the built-in defaults). Raises ParamsError."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ParamsError([f"parameters must be a JSON object, got {type(data).__name__}"])
        flat = (base or cls()).flattened()
        problems: list[str] = []
        updates: dict[str, object] = {}
        _flatten_input(data, "", updates, problems)
        specs = field_specs()
        for key, value in updates.items():
            if key not in specs:
                problems.append(_unknown(key, specs))
                continue
            try:
                flat[key] = _coerce(key, specs[key][0], value)
            except ValueError as exc:
                problems.append(str(exc))
        for unit in ("depth", "normal"):
            s, e = flat.get(f"{unit}.guidance_start"), flat.get(f"{unit}.guidance_end")
            if isinstance(s, float) and isinstance(e, float) and s > e:
                problems.append(f"{unit}.guidance_start ({s}) must not exceed {unit}.guidance_end ({e})")
        if problems:
            raise ParamsError(problems)
        return cls._from_flat(flat)

    @classmethod
    def from_json(cls, text: str, base: PlanParams | None = None) -> PlanParams:
        if text is None or not str(text).strip():
            return base or cls()
        data = parse_json(str(text), "parameters", error=ParamsJSONError)
        return cls.from_dict(data, base)

    @classmethod
    def _from_flat(cls, flat: dict[str, object]) -> PlanParams:
        top: dict[str, Any] = {k: v for k, v in flat.items() if "." not in k}
        for g, gcls in _GROUPS.items():
            top[g] = gcls(**{k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(g + ".")})
        return cls(**top)

    # ----------------------------------------------------------------- views
    def to_dict(self) -> dict[str, Any]:
        """Nested, JSON-serialisable; ``from_dict(p.to_dict()) == p``."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def flattened(self) -> dict[str, object]:
        """Dotted keys -> values (``{"depth.weight": 0.3, ...}``)."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in _GROUPS:
                for sf in dataclasses.fields(v):
                    out[f"{f.name}.{sf.name}"] = getattr(v, sf.name)
            else:
                out[f.name] = v
        return out

    def replace(self, **changes: object) -> PlanParams:
        """Validated copy with dotted or top-level keys changed: ``p.replace(**{"depth.weight": 0.5})``."""
        return PlanParams.from_dict(changes, base=self)

    def diff(self, other: PlanParams | None = None) -> dict[str, object]:
        """Dotted keys whose values differ from ``other`` (default: the built-in defaults)."""
        ref = (other or PlanParams()).flattened()
        return {k: v for k, v in self.flattened().items() if ref.get(k) != v}


def field_specs() -> dict[str, tuple[Spec, object]]:
    """Dotted key -> (Spec, built-in default), in declaration order."""
    out: dict[str, tuple[Spec, object]] = {}
    defaults = PlanParams()
    for f in dataclasses.fields(PlanParams):
        if f.name in _GROUPS:
            for sf in dataclasses.fields(_GROUPS[f.name]):
                out[f"{f.name}.{sf.name}"] = (
                    sf.metadata["spec"],
                    getattr(getattr(defaults, f.name), sf.name),
                )
        else:
            out[f.name] = (f.metadata["spec"], getattr(defaults, f.name))
    return out


def params_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12 subset) of the params object, for ``GET /scene-import/v1/schema``."""

    def prop(spec: Spec, default: object) -> dict[str, Any]:
        t = {"bool": "boolean", "int": "integer", "float": "number"}.get(spec.kind, "string")
        p: dict[str, Any] = {"title": spec.label, "default": default}
        if spec.help:
            p["description"] = spec.help
        if spec.kind == "splits":
            p["type"] = ["object", "string", "null"]
            return p
        if spec.kind in ("travel", "variations"):
            p["type"] = ["object", "null"]
            return p
        if spec.kind == "frames":
            p["type"] = ["integer", "string", "null"]
            return p
        if spec.kind == "names":
            p["type"] = ["array", "string", "null"]
            p["items"] = {"type": "string"}
            return p
        if spec.kind == "descmap":
            p["type"] = ["object", "null"]
            p["additionalProperties"] = {"type": "string"}
            p["propertyNames"] = {"pattern": "^[0-9]+$"}
            return p
        p["type"] = [t, "null"] if spec.nullable else t
        if spec.lo is not None:
            p["minimum"] = spec.lo
        if spec.hi is not None:
            p["maximum"] = spec.hi
        if spec.choices:
            p["enum"] = list(spec.choices)
        if spec.kind == "source":
            p["pattern"] = "^(auto|index|material|splits|cryptomatte|cryptomatte:.+|aov:.+)$"
        return p

    props: dict[str, Any] = {}
    for key, (spec, default) in field_specs().items():
        if "." in key:
            g, k = key.split(".", 1)
            grp = props.setdefault(g, {"type": "object", "properties": {}, "additionalProperties": False})
            grp["properties"][k] = prop(spec, default)
        else:
            props[key] = prop(spec, default)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Scene Import parameters",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


# --------------------------------------------------------------------------- validation helpers


def _flatten_input(data: dict[Any, Any], prefix: str, out: dict[str, object], problems: list[str]) -> None:
    for key, value in data.items():
        if not isinstance(key, str):
            problems.append(f"parameter names must be strings, got {key!r}")
            continue
        full = prefix + key
        if not prefix and key in _GROUPS:
            if not isinstance(value, dict):
                problems.append(
                    f"'{key}' must be an object like {{\"weight\": 0.3}}, got {type(value).__name__}"
                )
                continue
            _flatten_input(value, key + ".", out, problems)
        else:
            out[full] = value


def _unknown(key: str, specs: dict[str, tuple[Spec, object]]) -> str:
    names = list(specs)
    hint = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
    leaf = key.rsplit(".", 1)[-1]
    hint += [n for n in names if n.rsplit(".", 1)[-1] == leaf and n not in hint]
    if not hint:
        hint = [n for n in names if difflib.get_close_matches(leaf, [n.rsplit(".", 1)[-1]], cutoff=0.75)]
    msg = f"unknown parameter '{key}'"
    if hint:
        msg += " (did you mean " + " or ".join(f"'{h}'" for h in hint[:3]) + "?)"
    return msg


def _coerce_number(key: str, spec: Spec, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{key} must be finite, got {value!r}")
    num: int | float
    if spec.kind == "int":
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{key} must be a whole number, got {value!r}")
        num = int(value)
    else:
        num = float(value)
    if (spec.lo is not None and num < spec.lo) or (spec.hi is not None and num > spec.hi):
        raise ValueError(f"{key} must be in [{_num(spec.lo)}, {_num(spec.hi)}], got {_num(num)}")
    if key == "long_side" and num and num < 64:
        raise ValueError(f"long_side must be 0 (canvas size) or at least 64, got {num}")
    return num


def _coerce_descmap(key: str, value: object) -> dict[str, str] | None:
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object mapping pass indices to descriptions")
    out: dict[str, str] = {}
    for k, v in value.items():
        try:
            idx: int | None = int(k)
        except (TypeError, ValueError):
            idx = None
        if idx is None or str(idx) != str(k).strip() or idx < 0:
            raise ValueError(f"{key}: {k!r} is not a pass index (a whole number >= 0)")
        if not isinstance(v, str):
            raise ValueError(f"{key}[{k}] must be a string, got {type(v).__name__}")
        out[str(idx)] = v
    return out or None


def _coerce_splits(key: str, value: object) -> dict[str, Any] | str | None:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dict):
        return value
    raise ValueError(f"{key} must be a split preset object or a preset file path, got {type(value).__name__}")


def _coerce_names(key: str, value: object) -> tuple[str, ...] | None:
    """A list of names or one comma-separated text; empty: null. Each name once."""
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ValueError(f"{key} must be a list of camera names or 'A,B,C', got {type(value).__name__}")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"{key} must hold camera names (strings), got {item!r}")
        if item.strip():
            names.append(item.strip())
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{key} names {', '.join(map(repr, twice))} more than once")
    return tuple(names) or None


def _coerce_choice(key: str, spec: Spec, value: str) -> str:
    for c in spec.choices:
        if value == c or value.lower() == c.lower():
            return c
    raise ValueError(f"{key} must be one of {', '.join(repr(c) for c in spec.choices)}, got {value!r}")


def _coerce_source(key: str, value: str) -> str:
    v = value.strip()
    if v.lower() in REGION_SOURCES:
        return v.lower()
    if v.lower().startswith("aov:") and v[4:].strip():
        return "aov:" + v[4:].strip()
    if v.lower().startswith("cryptomatte:") and v[12:].strip():
        return "cryptomatte:" + v[12:].strip()
    raise ValueError(
        f"{key} must be auto, index, material, splits, cryptomatte[:<LAYER>] or aov:<NAME>, got {value!r}"
    )


#: Nullable strings where an empty text means null.
_EMPTY_IS_NULL = ("sampler_name", "descriptions", "scene", "camera", "prompt")


def _coerce_text(key: str, spec: Spec, value: object) -> str | None:
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {value!r}")
    if len(value) > 20000:
        raise ValueError(f"{key} is too long ({len(value)} characters)")
    if spec.kind == "choice":
        return _coerce_choice(key, spec, value)
    if spec.kind == "source":
        return _coerce_source(key, value)
    if spec.nullable and not value.strip() and key in _EMPTY_IS_NULL:
        return None
    return value


def _coerce(key: str, spec: Spec, value: object) -> object:
    """``value`` checked and normalised for the field ``key``; ValueError names the problem."""
    if value is None:
        if spec.nullable:
            return None
        raise ValueError(f"{key} must not be null")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, got {value!r}")
        return value
    if spec.kind in ("int", "float"):
        return _coerce_number(key, spec, value)
    if spec.kind == "descmap":
        return _coerce_descmap(key, value)
    if spec.kind == "splits":
        return _coerce_splits(key, value)
    if spec.kind in _ANIMATION:
        return _ANIMATION[spec.kind](value)
    if spec.kind == "names":
        return _coerce_names(key, value)
    return _coerce_text(key, spec, value)


def _coerce_frames(value: object) -> int | str | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f'frames must be a number N or "A-B", got {value!r}')
    if isinstance(value, int):
        if not 1 <= value <= 10000:
            raise ValueError(f"frames must be in [1, 10000], got {value}")
        return value
    try:
        parse_frames(value)
    except ParamsError as exc:
        raise ValueError(exc.problems[0]) from exc
    return value.strip() or None


_ANIMATION = {"frames": _coerce_frames, "travel": check_travel, "variations": check_variations}


def _num(x: float | None) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)
