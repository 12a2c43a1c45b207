"""SD 2 depth models ("depth2img"): condition on the scene's depth instead of MiDaS, for one run.

A1111 1.10 takes the depth conditioning from ``p.depth2img_image_conditioning(source_image)``
(img2img, and the hires pass through ``img2img_image_conditioning``) and
``p.txt2img_image_conditioning(x, width, height)`` (txt2img; stock 1.10.1 builds an inpainting
conditioning there and fails with 9 channels for a 5-channel depth UNet). Setting them as
*instance* attributes of this ``p`` replaces MiDaS for this run only: the next request has a new
``p`` and gets MiDaS again; nothing is restored. The array comes from
:func:`lib_scene.depth2img.depth_conditioning` (our quantised depth map, normalised like MiDaS's
output); torch is imported inside functions only.

``SCENE_IMPORT_PROBE_DIR`` (tests only): when set at start, an ``on_cfg_denoiser`` callback saves
the first ``image_cond`` of each run there as ``<n>.npy``: what the U-Net really received.
"""

from __future__ import annotations

import logging
import os

from lib_scene.depth2img import conditioning_digest, depth_conditioning
from lib_scene.plan import GenerationPlan

log = logging.getLogger("scene_import")

INFOTEXT_KEY = "Scene Import depth2img"
NO_DEPTH = (
    "the checkpoint is a depth model (SD 2 depth2img) but this camera has no depth map; "
    "A1111 estimates the depth with MiDaS"
)
CN_OPTIONAL = (
    "the depth model is conditioned on the scene's exact depth (MiDaS skipped); the ControlNet depth "
    "unit is optional here (depth.enabled = false turns it off)"
)


def is_depth_model(model: object) -> bool:
    """Whether ``model`` is an SD 2 depth model (A1111's own test, ``LatentDepth2ImageDiffusion``)."""
    if model is None:
        return False
    try:
        from ldm.models.diffusion.ddpm import LatentDepth2ImageDiffusion
    except Exception:  # Forge and hosts without the stability-ai repository
        return False
    return isinstance(model, LatentDepth2ImageDiffusion)


def _model(p) -> object:
    model = getattr(p, "sd_model", None)
    if model is None:
        try:
            from modules import shared

            model = shared.sd_model
        except Exception:
            model = None
    return model


class SceneDepth:
    """The two conditioning functions set on ``p``, built from one plan's depth map; one tensor per
    (batch, latent size), made on first use."""

    def __init__(self, plan: GenerationPlan, warn):
        if plan.depth_map is None:
            raise ValueError("SceneDepth needs a plan with a depth map")
        self.depth_map = plan.depth_map
        self.warn = warn
        self.cache: dict = {}
        self.digests: list[str] = []

    def tensor(self, batch: int, lh: int, lw: int, like):
        import torch

        key = (batch, lh, lw)
        if key not in self.cache:
            arr, warning = depth_conditioning(self.depth_map, lw, lh, batch)
            if warning:
                self.warn(warning)
            self.digests.append(conditioning_digest(arr))
            log.info(
                "Scene Import: depth2img conditioning %s from the scene depth (%s)",
                arr.shape,
                self.digests[-1],
            )
            self.cache[key] = torch.from_numpy(arr)
        t = self.cache[key]
        dtype = like.dtype if like.is_floating_point() else torch.float32
        return t.to(device=like.device, dtype=dtype)

    def depth2img(self, source_image):
        b, _, h, w = source_image.shape
        return self.tensor(int(b), int(h) // 8, int(w) // 8, source_image)

    def txt2img(self, x, width=None, height=None):
        b, _, h, w = x.shape
        return self.tensor(int(b), int(h), int(w), x)


def apply_depth2img(p, plan: GenerationPlan, warn) -> str | None:
    """When ``p``'s checkpoint is a depth model: set ``p``'s conditioning functions to the scene's
    depth and record it in the infotext. Returns the note for the user (None for other models)."""
    if not is_depth_model(_model(p)):
        return None
    if plan.depth_map is None:
        return NO_DEPTH
    scene = SceneDepth(plan, warn)
    p.depth2img_image_conditioning = scene.depth2img
    p.txt2img_image_conditioning = scene.txt2img
    if getattr(p, "extra_generation_params", None) is None:
        p.extra_generation_params = {}
    p.extra_generation_params[INFOTEXT_KEY] = "scene depth (MiDaS off)"
    return CN_OPTIONAL if any(u.kind == "depth" for u in plan.units) else None


# --------------------------------------------------------------------------- test probe

_probe = {"n": 0}


def register_probe() -> None:
    """Tests only (``SCENE_IMPORT_PROBE_DIR``): save each run's first ``image_cond`` as ``.npy``."""
    folder = os.environ.get("SCENE_IMPORT_PROBE_DIR")
    if not folder:
        return
    from modules import script_callbacks

    os.makedirs(folder, exist_ok=True)

    def on_cfg_denoiser(params) -> None:
        import numpy as np

        cond = getattr(params, "image_cond", None)
        if cond is None or getattr(params, "sampling_step", 0) != 0:
            return
        _probe["n"] += 1
        arr = cond.detach().float().cpu().numpy()
        np.save(os.path.join(folder, f"{_probe['n']:03d}.npy"), arr)

    script_callbacks.on_cfg_denoiser(on_cfg_denoiser)
    log.warning("Scene Import: test probe on, image_cond saved to %s", folder)
