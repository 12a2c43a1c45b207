"""Frames, prompt travel and variations -> the plans of one camera (called by ``request.resolve``).

A camera's frames: a sequence camera's selected frames (``params.frames`` "A-B", or N: the first N);
a still camera: ``frames`` N -> 0..N-1 (a morph), "A-B" -> A..B, none with travel -> 0..last keyframe,
else one plain image (no frame). Every frame gets the params' split preset, descriptions and the one
seed; with travel, frame k is planned from the keyframe it starts from (its base prompt and
descriptions), and ``plan.animation["travel"]`` carries the position and the prompt it travels to (the
host interpolates the conditioning between the two; see lib_scene.travel). With variations, each frame
gives ``count`` plans (``plan.animation["variation"]``).

``plan.animation`` (JSON): ``{"frame": k, "travel": {"position": t, "interpolation": ..., "from":
{"keyframe": i, "frame": f_i}, "to": {"keyframe": j, "frame": f_j, "prompt": ...}}, "variation":
{"index": k, "count": n, "sigma": s}}``; absent keys: not animated that way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from .errors import ParamsError, PlanError, SceneImportError
from .frames import parse_frames, select_frames
from .params import PlanParams
from .plan import GenerationPlan
from .prompt import count_sections
from .travel import Keyframe, Travel, Variations, check_chunk_counts

__all__ = ["camera_frames", "check_keyframes", "keyframe_params", "out_stem", "plans_for_frame"]

Build = Callable[[PlanParams], GenerationPlan]


def camera_frames(numbers: Sequence[int], params: PlanParams) -> list[int | None]:
    """The frames to generate of a camera whose sequence has ``numbers`` ([] for a still camera)."""
    frames = params.frames
    if numbers:
        if isinstance(frames, int):
            return list(numbers[:frames])
        return list(select_frames(numbers, parse_frames(frames)))
    travel = Travel.from_dict(params.travel) if params.travel else None
    if isinstance(frames, int):
        return list(range(frames))
    if isinstance(frames, str):
        rng = parse_frames(frames)
        last = rng.last if rng.last is not None else (travel.frames[-1] if travel else None)
        if last is None:
            raise ParamsError(
                [f'frames {frames!r} on a still camera needs an end ("A-B") or travel keyframes']
            )
        return list(range(rng.first or 0, last + 1))
    if travel:
        return list(range(0, travel.frames[-1] + 1))
    return [None]


def keyframe_params(params: PlanParams, kf: Keyframe) -> PlanParams:
    """The params of one keyframe: its base prompt, descriptions (over the params') and prompt."""
    changes: dict[str, object] = {}
    if kf.base_prompt is not None:
        changes["base_prompt"] = kf.base_prompt
    if kf.descriptions:
        changes["region_descriptions"] = {**(params.region_descriptions or {}), **kf.descriptions}
    if kf.prompt is not None:
        changes["prompt"] = kf.prompt
    return params.replace(**changes) if changes else params


def check_keyframes(build: Build, params: PlanParams) -> None:
    """Every keyframe's prompt must have as many BREAK sections as the first (PlanError naming it)."""
    if not params.travel:
        return
    travel = Travel.from_dict(params.travel)
    counts = []
    for n, kf in enumerate(travel.keyframes):
        try:
            counts.append(count_sections(build(keyframe_params(params, kf)).prompt))
        except SceneImportError as exc:
            raise PlanError(f"prompt travel: {kf.label(n)}: {exc.problem}", exc.path) from exc
    check_chunk_counts(counts, travel, "BREAK sections")


def _with(plan: GenerationPlan, animation: dict[str, object], info: dict[str, str]) -> GenerationPlan:
    return dataclasses.replace(plan, animation=animation, infotext={**plan.infotext, **info})


def plans_for_frame(build: Build, params: PlanParams, frame: int | None) -> list[GenerationPlan]:
    """The plans of one frame (one per variation). ``build(params)`` plans this frame's canvases."""
    animation: dict[str, object] = {}
    info: dict[str, str] = {}
    if frame is not None:
        animation["frame"] = frame
        info["Scene Import frame"] = str(frame)
    plan: GenerationPlan | None = None
    if params.travel and frame is not None:
        travel = Travel.from_dict(params.travel)
        i, j, t = travel.position(frame)
        plan = build(keyframe_params(params, travel.keyframes[i]))
        move: dict[str, object] = {
            "position": t,
            "interpolation": travel.interpolation,
            "from": {"keyframe": i, "frame": travel.frames[i]},
        }
        where = travel.keyframes[i].label(i)
        if j != i:
            to = build(keyframe_params(params, travel.keyframes[j]))
            move["to"] = {"keyframe": j, "frame": travel.frames[j], "prompt": to.prompt}
            where = f"{t:.4g} from {where} to {travel.keyframes[j].label(j)}, {travel.interpolation}"
        animation["travel"] = move
        info["Scene Import travel"] = where
    if plan is None:
        plan = build(params)
    if not params.variations:
        return [_with(plan, animation, info)]
    var = Variations.from_dict(params.variations)
    out = []
    for k in var.indices:
        anim = {**animation, "variation": {"index": k, "count": var.count, "sigma": var.sigma}}
        text = f"{k} of {var.count}, sigma {var.sigma:g}"
        out.append(_with(plan, anim, {**info, "Scene Import variation": text}))
    return out


def out_stem(plan: GenerationPlan) -> str:
    """``Cam0``, ``Cam0.0003`` (a frame), ``Cam0.v02`` (a variation), ``Cam0.0003.v02``."""
    stem = plan.camera
    frame = plan.animation.get("frame")
    if isinstance(frame, int):
        stem += f".{frame:04d}"
    var = plan.animation.get("variation")
    if isinstance(var, dict):
        stem += f".v{int(var['index']):02d}"
    return stem
