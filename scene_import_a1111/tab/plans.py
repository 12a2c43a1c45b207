"""The ONE place the tab asks for generation plans: the prompt preview, "Generate all cameras" and
the params "Send to txt2img" carries all go through ``lib_scene.request.resolve`` (the resolver the
Script, the ``/plan`` route and the CLI call), with the host's facts (Settings defaults, ControlNet
models, whether ControlNet and Regional Prompter are there), the tab's loaded canvases, each
camera's own split plan and typed prompt as per-camera params, and one seed for every camera.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any

from lib_scene.errors import SceneImportError
from lib_scene.params import PlanParams
from lib_scene.paths import resolve_allowed
from lib_scene.plan import GenerationPlan
from lib_scene.prompt import check_sections
from lib_scene.request import HostFacts, Scene, parse_params, resolve

from .state import TabSession

#: params keys that say where the canvases are (the Script's request keys), not how to plan
SOURCE_KEYS = ("upload", "scene")

Facts = HostFacts  # the tab's name for the host facts


def host_facts() -> HostFacts:
    """The live webui's facts (``runner.host_facts``); the built-ins when the tab runs standalone."""
    try:
        import modules.scripts  # noqa: F401
    except ImportError:
        return HostFacts()
    from scene_import_a1111.runner import host_facts as live

    return live()


# --------------------------------------------------------------------------- params


def seed_value(seed: object) -> int:
    """The seed box's value: empty or anything below 0 is -1 (one random seed for every camera)."""
    if seed is None or seed == "":
        return -1
    n = int(float(seed))  # type: ignore[arg-type]
    return -1 if n < 0 else n


def tab_params(s: TabSession, mode: str, seed: object, negative: str, prompt: str) -> dict[str, Any]:
    """The current camera's params as the dropdown Script takes them ("Send to"): where the
    canvases are, the camera, its splits, the descriptions file (relative to the scene folder),
    the region settings and edits, and the prompt box's text as ``prompt``."""
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
    if s.descriptions_file:
        d["descriptions"] = s.descriptions_file
    if st.descriptions:
        d["region_descriptions"] = {str(k): v for k, v in sorted(st.descriptions.items())}
    if prompt and prompt.strip():
        d["prompt"] = prompt
    return d


def parse(d: Mapping[str, Any], facts: HostFacts) -> PlanParams:
    """Validate tab params over the Settings defaults (a bad value is named before any send)."""
    return parse_params({k: v for k, v in d.items() if k not in SOURCE_KEYS}, facts)


# --------------------------------------------------------------------------- plans


def _scene(s: TabSession, cameras: list[str]) -> Scene:
    folder = s.scene_folder
    if folder is None:
        raise SceneImportError("load a scene first")

    def inside(name: str, what: str) -> str:  # files named in params: inside the scene folder
        return resolve_allowed(name if os.path.isabs(name) else os.path.join(folder, name), [folder])

    return Scene(folder, cameras=tuple(s.canvas(c) for c in cameras), resolve_path=inside)


def resolve_tab(
    s: TabSession,
    d: Mapping[str, Any],
    facts: HostFacts,
    *,
    cameras: list[str] | None = None,
    prompts: Mapping[str, str] | None = None,
    rng: random.Random | None = None,
) -> list[GenerationPlan]:
    """One plan per camera (default: every loaded camera), one seed for all of them (-1: drawn
    once). Each camera gets its own split plan; ``prompts``: camera -> the prompt the artist typed
    for it (generated verbatim; a BREAK count that does not fit its regions is a PlanError)."""
    cams = list(cameras if cameras is not None else s.state.cameras)
    rest = {k: v for k, v in d.items() if k not in ("camera", "splits", "prompt")}
    params = parse(rest, facts)
    per_camera: dict[str, dict[str, object]] = {}
    for cam in cams:
        per_camera[cam] = {"splits": s.state.plans[cam].to_dict()}
        text = (prompts or {}).get(cam)
        if text and text.strip():
            per_camera[cam]["prompt"] = text
    return resolve(_scene(s, cams), params, facts, camera_params=per_camera, rng=rng)


def check(text: str, plan: GenerationPlan) -> tuple[bool, str]:
    """Does ``text`` fit the plan's regions (the sections Regional Prompter binds to colours)?
    The same rule the plan applies to an edited prompt."""
    if plan.regional is None:
        return True, "no Regional Prompter regions: the prompt is used as it is"
    return check_sections(text, len(plan.sections), plan.regional.use_base)


def preview(s: TabSession, d: Mapping[str, Any], facts: HostFacts) -> GenerationPlan:
    """The current camera's plan as it would be generated (the prompt preview)."""
    cam = s.state.current
    if cam is None:
        raise SceneImportError("load a scene first")
    return resolve_tab(s, {**d, "seed": 0}, facts, cameras=[cam])[0]
