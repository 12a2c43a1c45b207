"""The host wire format: how a :class:`~lib_scene.plan.GenerationPlan` is spelled for the webui.

Host facts (see ../shared/host-contracts.md; sources: Mikubill/sd-webui-controlnet @ 56cec5b =
v1.1.455, hako-mikan/sd-webui-regional-prompter @ be62345):

* ControlNet units are dicts with ``enabled: true``, string ``resize_mode``/``control_mode``,
  ``module`` "none" (A1111 extension) or "None" (Forge builtin), an 8-bit RGB PNG at exactly the
  generation size, and never a ``mask`` key. Padded with ``{"enabled": false}`` to the slot count.
* Regional Prompter takes 20 positional args (:data:`RP_ARG_NAMES`).

The same functions feed the API payload (:func:`to_payload`, CLI and ``/plan``) and the in-process
run (``scene_import_a1111.runner.apply_plan``), so both carry the same values.

**The infotext through the API.** A1111's API drops a request's ``extra_generation_params``, so a
payload alone makes an image without Scene Import's infotext. A webui with Scene Import installed has
an always-on companion Script, :data:`INFOTEXT_SCRIPT` (AlwaysVisible, no visible UI, one arg): a
payload for such a host carries ``alwayson_scripts: {INFOTEXT_SCRIPT: {"args": [{key: text}]}}``
(:func:`infotext_arg`), and the companion puts the entries that pass :func:`clean_infotext` into
``p.extra_generation_params``. A webui without Scene Import answers 422 for an unknown always-on
script, so only payloads for a host that has it carry the entry (``to_payload(..., infotext=True)``).
"""

from __future__ import annotations

import re
from typing import Any

from .errors import HostError, InputError
from .imaging import png_b64
from .jsonio import parse_json
from .plan import GenerationPlan

#: The payload dialects: A1111 with Mikubill's ControlNet, Forge with its builtin ControlNet.
DIALECTS = ("a1111", "forge")

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
#: The ONE source of Regional Prompter's arg count (the host adapter imports it).
RP_ARG_COUNT = len(RP_ARG_NAMES)


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, got {dialect!r}")


#: Steps of an API body whose plan leaves them null: the txt2img/img2img UI default of A1111 and Forge.
API_STEPS = 20


def endpoint(plan: GenerationPlan) -> str:
    """The webui route for the plan: ``/sdapi/v1/txt2img`` or ``/sdapi/v1/img2img``."""
    return f"/sdapi/v1/{plan.mode}"


def generation_fields(plan: GenerationPlan) -> dict[str, Any]:
    """The generation settings a plan hands the host, as A1111's request/processing field names:
    prompt, negative prompt, seed, size, one image; steps, CFG and sampler only when set (null
    leaves the host's own defaults)."""
    fields: dict[str, Any] = {
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


def inpaint_fields(plan: GenerationPlan) -> dict[str, Any]:
    """An img2img inpaint's fields by A1111's request/processing names (empty without a mask):
    ``mask`` (a base64 L PNG, white = paint), ``mask_blur``, ``inpainting_fill`` (1 = start from the
    init image), ``inpaint_full_res`` (False = the whole picture), ``inpainting_mask_invert`` 0 and
    the painted area's ``denoising_strength``."""
    if plan.mask is None:
        return {}
    return {
        "mask": png_b64(plan.mask),
        "mask_blur": plan.mask_blur,
        "inpainting_fill": plan.inpainting_fill,
        "inpaint_full_res": plan.inpaint_full_res,
        "inpainting_mask_invert": 0,
        "denoising_strength": plan.denoising_strength,
    }


def cn_units(plan: GenerationPlan, dialect: str = "a1111", slots: int | None = None) -> list[dict[str, Any]]:
    """ControlNet unit dicts for the host, padded with ``{"enabled": false}`` to ``slots``."""
    _check_dialect(dialect)
    units: list[dict[str, Any]] = []
    for u in plan.units:
        module = u.module
        if module.lower() == "none":
            module = "None" if dialect == "forge" else "none"
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
            raise HostError(
                f"the plan has {len(units)} ControlNet units but the host has {slots} slots; "
                "raise ControlNet's unit count (Settings > ControlNet > Multi-ControlNet)"
            )
        units += [{"enabled": False} for _ in range(slots - len(units))]
    return units


def rp_args(plan: GenerationPlan) -> list[Any] | None:
    """Regional Prompter's 20 positional args (``RP_ARG_NAMES`` order), or None when it is off."""
    rp = plan.regional
    if rp is None:
        return None
    values: dict[str, Any] = {
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


#: The always-on companion Script's title; its API name (the ``alwayson_scripts`` key) is
#: :data:`INFOTEXT_SCRIPT`, the title lowercased. Keep both constant.
INFOTEXT_SCRIPT_TITLE = "Scene Import infotext"
INFOTEXT_SCRIPT = INFOTEXT_SCRIPT_TITLE.lower()
#: Bounds of the companion's arg: entries, characters per value (a params JSON is a few KiB).
INFOTEXT_MAX_KEYS = 16
INFOTEXT_MAX_CHARS = 64 * 1024
#: Our infotext keys: "Scene Import", or it followed by up to three lower-case words
#: ("Scene Import camera", "Scene Import chain blend").
_INFOTEXT_KEY = re.compile(r"Scene Import(?: [a-z0-9]{1,16}){0,3}")
#: Control characters (a NUL, a line break that would start a new infotext line) become spaces.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_PARAMS_KEY = "Scene Import params"


def is_infotext_key(key: object) -> bool:
    """True for a key of ours (``Scene Import`` or ``Scene Import <word>...``)."""
    return isinstance(key, str) and _INFOTEXT_KEY.fullmatch(key) is not None


def _clean_entry(key: object, value: object) -> str:
    """The value, sanitised, or InputError saying why the entry is refused."""
    if not is_infotext_key(key):
        raise InputError(f"key {str(key)[:60]!r} is not a Scene Import infotext key")
    if not isinstance(value, str):
        raise InputError(f"{key}: the value must be text, got {type(value).__name__}")
    if len(value) > INFOTEXT_MAX_CHARS:
        raise InputError(f"{key}: the value has {len(value)} characters; the limit is {INFOTEXT_MAX_CHARS}")
    text = _CONTROL.sub(" ", value).strip()
    if key == _PARAMS_KEY and not isinstance(parse_json(text, f"the {key} value"), dict):
        raise InputError(f"{key}: the value must be a JSON object")
    return text


def clean_infotext(value: object) -> tuple[dict[str, str], list[str]]:
    """The companion Script's arg as infotext entries: ``(entries, problems)``. Never raises.

    ``None`` (a UI generation: the arg's default) is no entries and no problem. Otherwise the arg
    must be an object of at most :data:`INFOTEXT_MAX_KEYS` entries; each key must be ours
    (:func:`is_infotext_key`) and each value text of at most :data:`INFOTEXT_MAX_CHARS`
    characters (control characters become spaces; ``Scene Import params`` must be a JSON object).
    A bad entry is left out and named in ``problems``; the arg is text only, nothing in it is ever
    opened or run."""
    if value is None:
        return {}, []
    if not isinstance(value, dict):
        return {}, [
            f"the {INFOTEXT_SCRIPT} arg must be an object of text entries, got {type(value).__name__}"
        ]
    if len(value) > INFOTEXT_MAX_KEYS:
        return {}, [f"the {INFOTEXT_SCRIPT} arg has {len(value)} entries; the limit is {INFOTEXT_MAX_KEYS}"]
    entries: dict[str, str] = {}
    problems: list[str] = []
    for key, text in value.items():
        try:
            entries[str(key)] = _clean_entry(key, text)
        except InputError as exc:
            problems.append(exc.problem)
    return entries, problems


def infotext_arg(plan: GenerationPlan) -> dict[str, str]:
    """The plan's infotext entries that the companion Script accepts (ours, sanitised)."""
    entries, _ = clean_infotext({k: v for k, v in plan.infotext.items() if is_infotext_key(k)})
    return entries


def without_infotext(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` without the companion's entry (what the image is made from: the infotext is only
    a record of it, e.g. for a plan hash that does not change with the Scene Import version)."""
    scripts = payload.get("alwayson_scripts")
    if not isinstance(scripts, dict) or INFOTEXT_SCRIPT not in scripts:
        return payload
    rest = {k: v for k, v in scripts.items() if k != INFOTEXT_SCRIPT}
    body = {k: v for k, v in payload.items() if k != "alwayson_scripts"}
    if rest:
        body["alwayson_scripts"] = rest
    return body


def to_payload(
    plan: GenerationPlan, dialect: str = "a1111", unit_count: int = 3, *, infotext: bool = False
) -> dict[str, Any]:
    """The exact JSON body for ``/sdapi/v1/txt2img`` or ``/img2img`` (see :func:`endpoint`).

    ControlNet goes in ``alwayson_scripts["ControlNet"]["args"]`` (dict units, padded to
    ``unit_count``), Regional Prompter in ``alwayson_scripts["Regional Prompter"]["args"]`` (20 args).
    CFG and sampler left null are omitted so the host's defaults apply; steps left null are
    :data:`API_STEPS` (the webui's own UI default), because a body without ``steps`` runs the API
    model's default of 50. ``infotext``: the host has Scene Import, whose companion Script
    (:data:`INFOTEXT_SCRIPT`) gets the plan's infotext entries (:func:`infotext_arg`).
    """
    _check_dialect(dialect)
    body = generation_fields(plan)
    body.setdefault("steps", API_STEPS)
    if plan.mode == "img2img" and plan.init_image is not None:
        body["init_images"] = [png_b64(plan.init_image)]
        body["denoising_strength"] = plan.denoising_strength
        body["resize_mode"] = 0  # "Just resize": the init image is already at the generation size
        body.update(inpaint_fields(plan))
    scripts: dict[str, Any] = {}
    if plan.units:
        scripts["ControlNet"] = {"args": cn_units(plan, dialect, unit_count)}
    args = rp_args(plan)
    if args is not None:
        scripts["Regional Prompter"] = {"args": args}
    if infotext:
        scripts[INFOTEXT_SCRIPT] = {"args": [infotext_arg(plan)]}
    if scripts:
        body["alwayson_scripts"] = scripts
    return body


__all__ = [
    "API_STEPS",
    "DIALECTS",
    "INFOTEXT_MAX_CHARS",
    "INFOTEXT_MAX_KEYS",
    "INFOTEXT_SCRIPT",
    "INFOTEXT_SCRIPT_TITLE",
    "RP_ARG_COUNT",
    "RP_ARG_NAMES",
    "clean_infotext",
    "cn_units",
    "endpoint",
    "generation_fields",
    "infotext_arg",
    "inpaint_fields",
    "is_infotext_key",
    "rp_args",
    "to_payload",
    "without_infotext",
]
