"""The tab's chained generation ("Chain cameras" in Generate), the preview of the next camera's
warp and mask, and the per-pair consistency after a run. The core does the work
(``lib_scene.chain``, ``lib_scene.reproject``, ``lib_scene.consistency``); this room holds the tab's
glue: which cameras, which images, what the artist reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from lib_scene.camera import PoseError
from lib_scene.chain import ChainResult, ChainScene, ChainStep, chain_order, fit_source, run_chain
from lib_scene.consistency import scene_consistency
from lib_scene.errors import SceneImportError
from lib_scene.imaging import to_rgb8, tonemap_srgb
from lib_scene.params import PlanParams
from lib_scene.plan import GenerationPlan, generation_size
from lib_scene.reproject import View, output_size, warp

from .state import TabSession

U8 = np.ndarray


def first_image(result: Any) -> U8:
    """The first image a host returned (a ``Processed``, a list of PIL images or arrays) as RGB8."""
    images = list(getattr(result, "images", result) or [])
    if not images:
        raise SceneImportError("the host returned no image")
    img = images[0]
    if hasattr(img, "convert"):
        img = img.convert("RGB")
    return to_rgb8(np.asarray(img))


def generate_chain(
    s: TabSession,
    plans: Sequence[GenerationPlan],
    runner: Callable[[GenerationPlan], Any],
    on_step: Callable[[int, ChainStep], None] | None = None,
) -> list[ChainResult[Any]]:
    """Run chained plans (from ``plans.resolve_tab`` with ``chain.enabled``) through the tab's host;
    keeps each camera's final image in the session (the next preview warps them)."""
    if not plans:
        raise SceneImportError("nothing to generate: no cameras")
    tonemap = str(plans[0].params.get("tonemap", "standard"))
    scene = ChainScene.of([s.canvas(p.camera) for p in plans], tonemap)

    def generate(plan: GenerationPlan) -> tuple[U8, Any]:
        result = runner(plan)
        return first_image(result), result

    out = run_chain(plans, scene, generate, on_step)
    s.generated.update({r.step.plan.camera: r.image for r in out})
    return out


def _views(s: TabSession, cameras: Sequence[str]) -> dict[str, View]:
    views = {}
    for cam in cameras:
        if cam not in s.state.cameras:
            continue
        try:
            views[cam] = View.of(s.canvas(cam))
        except PoseError:
            continue
    return views


def consistency_text(s: TabSession, images: Mapping[str, U8]) -> str:
    """The per-pair consistency of generated images (Markdown), or why there is none."""
    views = _views(s, list(images))
    if len(views) < 2:
        return "Consistency needs images of at least two cameras with poses (Blender sidecars)."
    score = scene_consistency(views, {k: v for k, v in images.items() if k in views}, list(views))
    rows = ["| pair | co-visible | PSNR dB | MAE |", "|---|---:|---:|---:|"]
    for p in score.pairs:
        psnr = "-" if p.psnr is None else f"{p.psnr:.2f}"
        mae = "-" if p.mae is None else f"{p.mae:.2f}"
        rows.append(f"| {p.a} - {p.b} | {100 * p.covisible:.1f}% | {psnr} | {mae} |")
    mean_psnr = "-" if score.psnr is None else f"{score.psnr:.2f}"
    mean_mae = "-" if score.mae is None else f"{score.mae:.2f}"
    rows.append(f"| **scene mean** | | **{mean_psnr}** | **{mean_mae}** |")
    return (
        "**Consistency** (agreement where two cameras see the same surfaces; higher PSNR, lower MAE: more alike)\n\n"
        + "\n".join(rows)
    )


def _source_image(s: TabSession, cam: str, params: PlanParams) -> U8 | None:
    """What a camera before the next one contributes: its generated image, else its beauty."""
    if cam in s.generated:
        return s.generated[cam]
    cs = s.canvas(cam)
    return None if cs.beauty is None else to_rgb8(tonemap_srgb(cs.beauty, params.tonemap))


def preview_next(s: TabSession, params: PlanParams) -> tuple[U8 | None, U8 | None, str]:
    """(warp, mask, caption) of the camera after the current one in the chain order: what the
    cameras up to the current one carry into it (their last generated images, else their
    tone-mapped beauty) and what it would paint (white)."""
    cams = list(s.state.cameras)
    current = s.state.current
    if current is None or len(cams) < 2:
        return None, None, "A chain needs at least two cameras."
    canvases = [s.canvas(c) for c in cams]
    order = [cams[i] for i in chain_order(canvases, params.chain.order)]
    k = order.index(current)
    if k == len(order) - 1:
        return None, None, f"{current} is the last camera of the chain ({' > '.join(order)})."
    target = order[k + 1]
    sources = []
    for c in order[: k + 1]:
        img = _source_image(s, c, params)
        if img is not None:
            view = View.of(s.canvas(c))
            sources.append((view, fit_source(img, view.camera)))
    if not sources:
        return None, None, "No image to carry: generate first, or give the cameras a beauty pass."
    cs = s.canvas(target)
    tv = View.of(cs)
    w, h = generation_size(cs.width, cs.height, params.long_side)
    res = warp(sources[::-1], tv, output_size(tv.camera, max(w, h)))
    used = ", ".join(c + (" (generated)" if c in s.generated else " (beauty)") for c in order[: k + 1])
    painted = 100.0 * float((res.mask > 0).mean())
    caption = (
        f"Next in the chain ({' > '.join(order)}): **{target}**, carried from {used}; "
        f"{painted:.1f}% to paint (white in the mask)."
    )
    return to_rgb8(res.image), res.mask, caption
