"""Chained generation: one consistent scene from every camera.

The cameras are generated one after the other in an order (``chain.order``, default the
nearest-pose order from the first camera, :func:`lib_scene.camera.nearest_pose_order`). The first
is generated as its plan says. Every later camera is an img2img **inpaint** (:func:`chain_step`):

* init image: everything generated so far warped into it (:func:`lib_scene.reproject.warp`; the
  sources nearest in pose first, so each pixel comes from the nearest camera that saw its surface;
  each source on its canvas grid, :func:`fit_source`),
  the holes filled from the camera's tone-mapped beauty (or, without one, the carried pixels' mean);
* mask: the disocclusion mask (what no earlier camera saw, or nothing was carried to), exactly, sent
  with A1111's mask blur ``feather`` (the painted area fades into the carried one over that many
  pixels; outside the blurred mask A1111 pastes the init image back, so carried content stays);
* the painted area's denoise ``chain.denoise``; "original" fill (the init image under the mask);
  the whole picture as context (``inpaint_full_res`` false); the camera's own ControlNet units,
  Regional Prompter and the one seed, unchanged.

``chain.blend`` > 0 adds a light whole-image img2img pass of that strength after each inpaint
(:func:`blend_plan`) to soften seams; 0 (the default) keeps carried content exactly as painted.

A plan for camera k can only be completed once the cameras before it are generated, so the hosts
(CLI ``run``, the Script, the tab) drive :func:`run_chain` with a callback that generates one plan.
Pure: numpy only, no host.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from .camera import Camera, camera_of, nearest_pose_order, view_direction
from .canvas import CanvasSet
from .errors import InputError, NotFoundError
from .imaging import resize_nearest, resize_smooth, to_rgb8, tonemap_srgb
from .params import ChainParams, PlanParams
from .plan import GenerationPlan
from .reproject import View, output_size, same_aspect, warp

__all__ = [
    "ChainResult",
    "ChainScene",
    "ChainStopped",
    "ChainStep",
    "blend_plan",
    "chain_order",
    "chain_step",
    "fit_source",
    "run_chain",
]

U8 = npt.NDArray[np.uint8]
R = TypeVar("R")

#: A1111's ``inpainting_fill`` "original": the masked area starts from the init image.
FILL_ORIGINAL = 1


def chain_order(cameras: Sequence[CanvasSet], order: Sequence[str] | None = None) -> list[int]:
    """Indices of ``cameras`` in chain order. ``order`` (camera names) must name every camera once;
    None: the nearest-pose order from the first camera. Every camera needs a pose
    (:class:`~lib_scene.camera.PoseError` otherwise)."""
    posed = [camera_of(cs) for cs in cameras]
    names = [cs.camera for cs in cameras]
    if not order:
        return nearest_pose_order(posed, 0) if posed else []
    unknown = [n for n in order if n not in names]
    if unknown:
        raise NotFoundError(
            f"chain.order names {', '.join(map(repr, unknown))}, which are not among the cameras "
            f"generated ({', '.join(names)})"
        )
    left = [n for n in names if n not in order]
    if left:
        raise InputError(
            f"chain.order leaves out {', '.join(map(repr, left))}; name every camera generated "
            f"({', '.join(names)}) or leave it null for the nearest-pose order"
        )
    return [names.index(n) for n in order]


@dataclass(frozen=True)
class ChainScene:
    """What a chain needs of the scene: each camera's view (pose + depth) and tone-mapped beauty."""

    views: Mapping[str, View]
    beauty: Mapping[str, U8 | None]

    @classmethod
    def of(cls, cameras: Sequence[CanvasSet], tonemap: str = "standard") -> ChainScene:
        views = {cs.camera: View.of(cs) for cs in cameras}
        beauty = {
            cs.camera: None if cs.beauty is None else to_rgb8(tonemap_srgb(cs.beauty, tonemap))
            for cs in cameras
        }
        return cls(views, beauty)


@dataclass(frozen=True, eq=False)
class ChainStep:
    """One camera of a chain: the plan to generate and, after the first, the warp and mask it got."""

    plan: GenerationPlan
    warp: U8 | None = None  # (H, W, 3) what was carried, black where nothing was
    mask: U8 | None = None  # (H, W) the mask sent: 255 = paint


def _cost(target: Camera, cams: Sequence[Camera]) -> list[float]:
    """Pose distance of each camera to ``target``: position plus view angle (see nearest_pose_order)."""
    pos = np.array([c.position for c in cams])
    dist = np.linalg.norm(pos - target.position, axis=-1)
    d0 = view_direction(target)
    angle = np.arccos(np.clip(np.array([view_direction(c) @ d0 for c in cams]), -1.0, 1.0))
    scale = float(dist.mean()) or 1.0
    return [float(x) for x in dist + scale * angle]


def fit_source(image: U8, cam: Camera) -> U8:
    """A generated image made ready to warp from: on (at least) its camera's canvas grid, at the
    camera's exact aspect. Generation sizes are snapped to 8 px, and a source image sets the grid its
    depth is tested on: on a small grid a steep plane (a floor seen at a grazing angle) changes depth
    by more than the tolerance from pixel to pixel and would be refused as an edge."""
    h, w = image.shape[:2]
    if max(w, h) < max(cam.width, cam.height):
        return to_rgb8(resize_smooth(image, cam.width, cam.height))
    if same_aspect(w, h, cam):
        return image
    return to_rgb8(resize_smooth(image, *output_size(cam, max(w, h))))


def _params(plan: GenerationPlan) -> ChainParams:
    return PlanParams.from_dict(plan.params).chain if plan.params else ChainParams()


def chain_step(
    plan: GenerationPlan,
    scene: ChainScene,
    done: Sequence[tuple[str, U8]],
    params: ChainParams | None = None,
) -> ChainStep:
    """Complete camera ``plan.camera``'s plan from the images generated so far (``done``: camera name
    and its (H, W, 3) uint8 image, in generation order). Without earlier images, the plan as it is.
    ``params``: default the plan's own ``chain`` params."""
    if not done:
        return ChainStep(plan)
    cp = params or _params(plan)
    target = scene.views[plan.camera]
    cams = [scene.views[name].camera for name, _ in done]
    costs = _cost(target.camera, cams)
    ranked = sorted(range(len(done)), key=lambda i: (costs[i], i))
    sources = [(scene.views[done[i][0]], fit_source(to_rgb8(done[i][1]), cams[i])) for i in ranked]
    w, h = plan.width, plan.height
    size = output_size(target.camera, max(w, h))
    res = warp(sources, target, size)
    image, holes = to_rgb8(res.image), res.mask
    if size != (w, h):
        image, holes = to_rgb8(resize_smooth(image, w, h)), resize_nearest(holes, w, h)
    hole = holes > 0
    carried_px = image.copy()
    carried_px[hole] = 0
    init = carried_px.copy()
    beauty = scene.beauty.get(plan.camera)
    if beauty is not None:
        init[hole] = to_rgb8(resize_smooth(beauty, w, h))[hole]
    elif (~hole).any():
        init[hole] = np.round(carried_px[~hole].mean(axis=0)).astype(np.uint8)
    mask = np.where(hole, np.uint8(255), np.uint8(0))
    after = [done[i][0] for i in ranked]
    total = len(plan.chain.get("order") or []) or len(done) + 1
    info = {**plan.infotext, "Scene Import chain": f"{len(done) + 1}/{total}"}
    chain = {**plan.chain, "after": after, "carried": round(float((~hole).mean()), 6)}
    inpaint = replace(
        plan,
        mode="img2img",
        init_image=_ro(init),
        mask=_ro(mask),
        mask_blur=cp.feather,
        inpainting_fill=FILL_ORIGINAL,
        inpaint_full_res=False,
        denoising_strength=cp.denoise,
        infotext=info,
        chain=chain,
    )
    inpaint.check()
    return ChainStep(inpaint, _ro(carried_px), inpaint.mask)


def blend_plan(plan: GenerationPlan, image: U8, params: ChainParams | None = None) -> GenerationPlan | None:
    """The light whole-image pass after an inpaint (``chain.blend`` > 0), else None."""
    cp = params or _params(plan)
    if cp.blend <= 0 or plan.mask is None:
        return None
    img = to_rgb8(image)
    if img.shape[:2] != (plan.height, plan.width):
        img = to_rgb8(resize_smooth(img, plan.width, plan.height))
    info = {**plan.infotext, "Scene Import chain blend": f"{cp.blend:g}"}
    return replace(
        plan, init_image=_ro(img), mask=None, mask_blur=0, denoising_strength=cp.blend, infotext=info
    )


class ChainStopped(Exception):
    """Raised by a ``generate`` callback to end a chain early (the user interrupted): :func:`run_chain`
    returns the cameras finished so far."""


@dataclass(frozen=True, eq=False)
class ChainResult(Generic[R]):
    """One camera's step, its final image and what the host returned for each generation."""

    step: ChainStep
    image: U8
    results: tuple[R, ...]


def run_chain(
    plans: Sequence[GenerationPlan],
    scene: ChainScene,
    generate: Callable[[GenerationPlan], tuple[U8, R]],
    on_step: Callable[[int, ChainStep], None] | None = None,
) -> list[ChainResult[R]]:
    """Generate ``plans`` (in chain order) one after the other: each after the first as
    :func:`chain_step` completes it from the images before it (and :func:`blend_plan` when set).
    ``generate(plan) -> (image, host result)``; ``on_step(k, step)`` is told before each camera.
    A :class:`ChainStopped` from ``generate`` ends the chain: the cameras finished so far come back."""
    done: list[tuple[str, U8]] = []
    out: list[ChainResult[R]] = []
    for k, plan in enumerate(plans):
        step = chain_step(plan, scene, done)
        if on_step is not None:
            on_step(k, step)
        try:
            image, result = generate(step.plan)
            results = [result]
            second = blend_plan(step.plan, image)
            if second is not None:
                image, result = generate(second)
                results.append(result)
        except ChainStopped:
            break
        image = to_rgb8(np.asarray(image))
        done.append((plan.camera, image))
        out.append(ChainResult(step, image, tuple(results)))
    return out


def _ro(a: U8) -> U8:
    a = np.ascontiguousarray(a, dtype=np.uint8)
    a.flags.writeable = False
    return a
