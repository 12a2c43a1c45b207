"""The ONE place the tab asks the core for generation plans: the prompt preview, "Generate all
cameras" and the params "Send to txt2img" carries all come from here, with the admin's Settings
defaults and the host's ControlNet model list (:func:`host_facts`).

Every camera is planned by ``lib_scene.plan.build_plan`` with the tab's loaded canvases, the
camera's own split plan, one seed for all cameras (-1: one random seed drawn once) and, where the
artist typed one, that camera's prompt used verbatim (its BREAK count checked against the regions).
When ``lib_scene.request.resolve`` lands this module is the one to switch.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from lib_scene.params import PlanParams
from lib_scene.plan import GenerationPlan, PlanError, build_plan, with_seed
from lib_scene.session import prompt_check

from .state import TabSession

#: params keys that say where the canvases are, not how to plan them
SOURCE_KEYS = ("upload", "scene", "camera")


@dataclass(frozen=True)
class Facts:
    """What the host decides: Settings > Scene Import defaults, its ControlNet models."""

    defaults: PlanParams = field(default_factory=PlanParams)
    models: tuple[str, ...] | None = None  # "name [hash8]"; None: unknown (default names)


def host_facts() -> Facts:
    """The live host's facts (built-in defaults and no model list outside A1111)."""
    from scene_import_a1111.settings import settings_defaults

    return Facts(defaults=settings_defaults(), models=_host_models())


def _host_models() -> tuple[str, ...] | None:
    try:
        from modules import scripts
    except ImportError:
        return None
    from scene_import_a1111.hosts import ControlNetAdapter

    cn = ControlNetAdapter(getattr(scripts, "scripts_txt2img", None))
    models = cn.models() if cn.present else None
    return None if models is None else tuple(models)


def _has_prompt_field() -> bool:
    return any(f.name == "prompt" for f in fields(PlanParams))


# --------------------------------------------------------------------------- params


def tab_params(s: TabSession, mode: str, seed: object, negative: str, prompt: str) -> dict[str, Any]:
    """The params of the current camera as the dropdown Script takes them ("Send to")."""
    st = s.state
    d: dict[str, Any] = {
        "mode": mode,
        "base_prompt": st.base_prompt,
        "negative_prompt": negative or "",
        "seed": seed_value(seed),
        "normal_convention": st.convention,
        "regions": {"source": st.region_source, "threshold": float(st.threshold)},
        "splits": st.require_plan().to_dict(),
        "camera": st.current,
    }
    if s.upload_id is not None:
        d["upload"] = s.upload_id
    else:
        d["scene"] = s.scene_folder
    if st.descriptions:
        d["region_descriptions"] = {str(k): v for k, v in sorted(st.descriptions.items())}
    if prompt and prompt.strip():
        d["prompt"] = prompt
    return d


def seed_value(seed: object) -> int:
    """The seed box's value: empty or anything below 0 is -1 (random)."""
    if seed is None or seed == "":
        return -1
    n = int(float(seed))  # type: ignore[arg-type]
    return -1 if n < 0 else n


def parse(d: Mapping[str, Any], facts: Facts) -> PlanParams:
    """Validate tab params over the Settings defaults (a bad value is named before any send)."""
    rest = {k: v for k, v in d.items() if k not in ("upload",)}
    if not _has_prompt_field():
        rest.pop("prompt", None)
    return PlanParams.from_dict(rest, base=facts.defaults)


# --------------------------------------------------------------------------- plans


def resolve_tab(
    s: TabSession,
    d: Mapping[str, Any],
    facts: Facts,
    *,
    cameras: list[str] | None = None,
    prompts: Mapping[str, str] | None = None,
    rng: random.Random | None = None,
) -> list[GenerationPlan]:
    """One plan per camera (default: every loaded camera) with one seed for all of them.

    ``prompts``: camera -> the prompt the artist typed for it (used verbatim)."""
    base = {k: v for k, v in d.items() if k not in (*SOURCE_KEYS, "splits", "prompt")}
    params = parse(base, facts)
    seed = params.seed if params.seed >= 0 else (rng or random.SystemRandom()).randrange(2**32)
    models = None if facts.models is None else list(facts.models)
    out = []
    for cam in cameras if cameras is not None else list(s.state.cameras):
        plan = build_plan(
            s.canvas(cam),
            params,
            preset=s.state.plans[cam],
            descriptions=s.descriptions,
            available_models=models,
        )
        text = (prompts or {}).get(cam)
        if text and text.strip():
            plan = with_prompt(plan, text)
        out.append(with_seed(plan, seed))
    return out


def with_prompt(plan: GenerationPlan, text: str) -> GenerationPlan:
    """The plan with the artist's prompt, verbatim; its sections must fit the regions."""
    ok, msg = check(text, plan)
    if not ok:
        raise PlanError(f"camera {plan.camera}: the edited prompt does not fit the regions: {msg}")
    edited = replace(plan, prompt=text)
    edited.check()
    return edited


def check(text: str, plan: GenerationPlan) -> tuple[bool, str]:
    """Does ``text`` fit the plan's regions (the BREAK count Regional Prompter needs)?"""
    if plan.regional is None:
        return prompt_check(text, 0)
    rp = plan.regional
    return prompt_check(text, len(plan.sections), use_base=rp.use_base or rp.use_common)


def preview(s: TabSession, d: Mapping[str, Any], facts: Facts) -> GenerationPlan:
    """The current camera's plan as it would be generated (the prompt preview)."""
    cam = s.state.current
    if cam is None:
        raise PlanError("load a scene first")
    return resolve_tab(s, {**d, "seed": 0}, facts, cameras=[cam])[0]
