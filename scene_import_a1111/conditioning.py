"""Prompt travel and variations inside A1111's sampling: the text conditioning, moved per step.

**The callback: ``script_callbacks.on_cfg_denoiser``** (modules/script_callbacks.py; called from
``CFGDenoiser.forward`` in modules/sd_samplers_cfg_denoiser.py every sampling step). Why this one:

* It is A1111's documented place to replace the text conditioning: ``params.text_cond`` is read back
  after the callbacks (``tensor = denoiser_params.text_cond``) and fed to the U-Net.
* ``text_cond`` there is a FRESH tensor each step (``prompt_parser.reconstruct_multicond_batch`` of
  the cached conds), so replacing it never touches ``StableDiffusionProcessing.cached_c``, the
  class-level cond cache later runs with the same prompt reuse (hooking ``p.c`` or the cache would
  have to copy around that cache and around ``setup_conds``, which a dropdown Script cannot reach).
* Regional Prompter (Attention mode) slices the conditioning inside the U-Net's cross-attention by
  77-token chunks (``contexts[:, a*77:b*77]``, scripts/attention.py), i.e. AFTER this callback; its own
  ``on_cfg_denoiser`` only reads the shapes. Interpolating chunk by chunk with equal chunk counts keeps
  every region section in its token range. ControlNet hooks the U-Net's forward: unaffected.
* It is global, so it acts only while a plan of ours runs (:func:`walking`), and only when the
  denoiser's ``p`` is that run's ``p``.
* ControlNet (Mikubill, scripts/hook.py ``mark_prompt_context``) PREPENDS one mark token to the cached
  conds, so ``text_cond`` here holds ``lead + 77 n`` tokens; the lead (the mark) is kept bit for bit,
  only the 77-token chunks move (ControlNet strips the mark inside the U-Net again).

At t = 0 (a keyframe) and variation 0 nothing is installed: those frames are plain generations.
``cfg_denoiser_callback`` swallows exceptions (it logs them), so everything that can fail (the
keyframe's conditioning, its chunk count) is computed and checked BEFORE ``process_images``, and an
error inside the callback (or a walk that never ran) fails the run afterwards instead of passing a
plain image off as a travelled one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lib_scene.animation import out_stem
from lib_scene.errors import HostError, PlanError
from lib_scene.plan import GenerationPlan
from lib_scene.travel import chunk_count, linear_weights, slerp_weights, walk_offset

log = logging.getLogger("scene_import")

#: The run being walked (one at a time: A1111 generates under its queue lock).
_ACTIVE: list[_Walk] = []


@dataclass
class _Walk:
    p: Any
    target: Any = None  # the destination keyframe's MulticondLearnedConditioning (travel)
    position: float = 0.0
    interpolation: str = "slerp"
    variation: int = 0
    sigma: float = 0.0
    seed: int = 0
    steps: int = 1
    calls: int = 0
    error: BaseException | None = None


def needs_hook(plan: GenerationPlan) -> bool:
    travel = plan.animation.get("travel") or {}
    var = plan.animation.get("variation") or {}
    return bool(travel.get("to")) or bool(var.get("index")) and float(var.get("sigma", 0)) > 0


def _target_conds(p: Any, prompt: str, steps: int) -> Any:
    """The destination keyframe's conditioning, exactly as A1111 makes p's own (setup_conds)."""
    from modules import devices, prompt_parser, shared

    texts = prompt_parser.SdConditioning([prompt], width=p.width, height=p.height)
    with devices.autocast():
        import torch

        with torch.no_grad():
            return prompt_parser.get_multicond_learned_conditioning(
                shared.sd_model, texts, steps, None, shared.opts.use_old_scheduling
            )


def _chunks(conds: Any) -> int:
    tensor = conds.batch[0][0].schedules[0].cond
    tensor = tensor["crossattn"] if isinstance(tensor, dict) else tensor
    return chunk_count(int(tensor.shape[0]))


def prepare(p: Any, plan: GenerationPlan) -> _Walk:
    """Everything the walk needs, checked before sampling (a clear PlanError on chunk mismatch)."""
    walk = _Walk(p=p, seed=int(plan.seed), steps=int(getattr(p, "steps", 20) or 20))
    travel = plan.animation.get("travel") or {}
    if travel.get("to"):
        to = travel["to"]
        walk.position = float(travel["position"])
        walk.interpolation = str(travel.get("interpolation", "slerp"))
        walk.target = _target_conds(p, str(to["prompt"]), walk.steps)
        mine = _target_conds(p, plan.prompt, walk.steps)
        a, b = _chunks(mine), _chunks(walk.target)
        if a != b:
            src = travel["from"]
            raise PlanError(
                f"prompt travel: keyframe {to['keyframe']} (frame {to['frame']}) gives {b} prompt chunks of "
                f"75 tokens, keyframe {src['keyframe']} (frame {src['frame']}) gives {a}; shorten the longer "
                "prompt's sections (each BREAK section must stay within the same number of 75-token chunks)"
            )
    var = plan.animation.get("variation") or {}
    walk.variation = int(var.get("index", 0) or 0)
    walk.sigma = float(var.get("sigma", 0.0) or 0.0)
    return walk


@contextlib.contextmanager
def walking(p: Any, plan: GenerationPlan) -> Iterator[None]:
    """Install the walk for ``plan`` on ``p`` while the block runs (nothing for a plain plan)."""
    if not needs_hook(plan):
        yield
        return
    walk = prepare(p, plan)
    _ACTIVE.append(walk)
    try:
        yield
    finally:
        _ACTIVE.remove(walk)
        log.info("Scene Import: conditioning walked in %d denoiser call(s)", walk.calls)
    if walk.error is not None or (walk.calls == 0 and not _interrupted()):
        why = repr(walk.error) if walk.error is not None else "the cfg denoiser callback never ran"
        raise HostError(
            f"{out_stem(plan)}: the text conditioning could not be moved inside the sampler ({why})"
        )


def _interrupted() -> bool:
    try:
        from modules import shared

        return bool(shared.state.interrupted or shared.state.skipped)
    except (ImportError, AttributeError):
        return False


def _interpolate(a: Any, b: Any, t: float, how: str) -> Any:
    """(B, T, C) tensors, T a multiple of 77: interpolated chunk by chunk (each 77 x C chunk a vector)."""
    import torch

    out = torch.empty_like(a)
    for k in range(a.shape[1] // 77):
        sl = slice(77 * k, 77 * (k + 1))
        for n in range(a.shape[0]):
            ca, cb = a[n, sl].float(), b[n, sl].float()
            if how == "linear":
                wa, wb = linear_weights(t)
            else:
                cos = float(torch.nn.functional.cosine_similarity(ca.flatten(), cb.flatten(), dim=0))
                wa, wb = slerp_weights(t, cos)
            out[n, sl] = (wa * ca + wb * cb).to(a.dtype)
    return out


def on_cfg_denoiser(params: Any) -> None:
    """The ``on_cfg_denoiser`` callback (see the module doc)."""
    if not _ACTIVE:
        return
    walk = _ACTIVE[-1]
    if getattr(params.denoiser, "p", None) is not walk.p:
        return
    try:
        params.text_cond = _moved(walk, params.text_cond, params.denoiser.step)
        walk.calls += 1
    except Exception as exc:  # A1111 would only log it: remember it and fail the run afterwards
        walk.error = exc
        raise


def _moved(walk: _Walk, cond: Any, step: int) -> Any:
    """The conditioning of this step, travelled and/or varied; the leading non-chunk tokens (ControlNet's
    mark) untouched."""
    import torch
    from modules import prompt_parser

    if isinstance(cond, dict):
        raise HostError("prompt travel/variations support SD 1.x/2.x conditioning (not SDXL's dict) for now")
    lead = cond.shape[1] % 77
    body = cond[:, lead:]
    if walk.target is not None:
        _, target = prompt_parser.reconstruct_multicond_batch(walk.target, step)
        if target.shape[1] != body.shape[1]:
            raise PlanError(
                f"the destination keyframe's conditioning has {target.shape[1]} tokens, this one {body.shape[1]}"
            )
        target = target.to(cond.device, cond.dtype).expand_as(body)
        body = _interpolate(body, target, walk.position, walk.interpolation)
    if walk.variation and walk.sigma > 0:
        offset = walk_offset(tuple(body.shape[1:]), walk.variation, walk.sigma, walk.seed)
        body = body + torch.from_numpy(offset).to(cond.device, cond.dtype)
    return torch.cat([cond[:, :lead], body], dim=1) if lead else body
