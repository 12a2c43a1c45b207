"""What ``run`` needs for frames, prompt travel and variations (helpers of lib_scene.cli_plan).

* Travel and variations move the text conditioning INSIDE the webui's sampling, so a run with either
  sends every image through the Scene Import Script (``script_name: "scene import"``) as one task:
  the camera's canvases uploaded (a frame's EXR as ``<camera>.exr`` with its sidecar), ``camera``,
  ``frames: "k"`` and ``variations.index`` naming the one image, and the run's one seed. The webui
  must have Scene Import installed; a plain frame sequence needs only ControlNet and RP.
* The animation files (``OUT/<camera>[.vNN].webp``, ``.mp4``) are written by
  :func:`lib_scene.jobs.animations`, the same for one webui and for several.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import Any

from .canvas import CanvasSet
from .errors import InputError
from .plan import GenerationPlan

__all__ = ["needs_script", "script_body"]

SCRIPT_NAME = "scene import"


def needs_script(plans: Sequence[GenerationPlan]) -> bool:
    """True when a plan travels or is a variation (the webui's Scene Import Script must generate it)."""
    return any("travel" in p.animation or "variation" in p.animation for p in plans)


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return base64.b64encode(fh.read()).decode("ascii")
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path) from exc


def _uploads(cs: CanvasSet) -> list[dict[str, str]]:
    if cs.layout == "daz":
        files = [(os.path.basename(p), p) for p in cs.channels]
        if cs.sidecar_path:
            files.append((os.path.basename(cs.sidecar_path), cs.sidecar_path))
    else:  # one EXR (a sequence's frame too): uploaded under the camera's name, with its sidecar
        files = [(cs.camera + ".exr", next(iter(cs.channels)))]
        if cs.sidecar_path:
            files.append((cs.camera + ".json", cs.sidecar_path))
    return [{"name": name, "data": _read(path)} for name, path in files]


def script_body(plan: GenerationPlan, cs: CanvasSet, params: dict[str, Any]) -> dict[str, Any]:
    """The ``/sdapi/v1/<mode>`` body that has the webui's Scene Import Script generate exactly ``plan``."""
    task: dict[str, Any] = {k: v for k, v in params.items() if k not in ("scene", "camera", "frames")}
    for key in ("splits", "descriptions"):
        if isinstance(task.get(key), str):
            raise InputError(
                f"--{key} files are not sent to the webui with travel/variations; put them in the "
                "sidecars or params (region_descriptions, an inline splits preset)"
            )
    task.update(camera=plan.camera, seed=plan.seed, files=_uploads(cs))
    frame = plan.animation.get("frame")
    if isinstance(frame, int):
        task["frames"] = str(frame)
    var = plan.animation.get("variation")
    if isinstance(var, dict):
        task["variations"] = {"count": var["count"], "sigma": var["sigma"], "index": var["index"]}
    body: dict[str, Any] = {
        "prompt": "",
        "negative_prompt": "",
        "script_name": SCRIPT_NAME,
        "script_args": [task],
    }
    if plan.mode == "img2img":
        body["init_images"] = []
    return body
