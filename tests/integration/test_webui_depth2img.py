"""Opt-in: an SD 2 depth checkpoint in a REAL A1111 1.10 is conditioned on the scene's depth.

Needs, besides ``SCENE_IMPORT_WEBUI_URL``:

* ``SCENE_IMPORT_DEPTH_CHECKPOINT``: (part of) the title of a depth2img checkpoint the webui lists
  (``v2-midas-inference.yaml``; a random-weight one is enough), e.g. ``random-sd2-depth``;
* ``SCENE_IMPORT_PROBE_DIR``: the folder the webui was started with in its environment
  (``SCENE_IMPORT_PROBE_DIR=... ./start.sh --ckpt-dir DIR``); Scene Import's test probe saves the
  ``image_cond`` the U-Net receives there (``on_cfg_denoiser``), one ``.npy`` per sampling pass.

The test switches the webui to the depth checkpoint through ``/sdapi/v1/options`` (checked with a
GET: a failed load still answers 200) and back to the previous checkpoint at the end. It compares
what the U-Net received with :func:`lib_scene.depth2img.depth_conditioning` of the plan's depth map
built here from the same files and params, and checks that a run without Scene Import gets MiDaS's
map again.
"""

from __future__ import annotations

import base64
import json
import os
import time

import numpy as np
import pytest

from lib_scene.canvas import load_cameras
from lib_scene.depth2img import depth_conditioning
from lib_scene.params import PlanParams
from lib_scene.plan import build_plan
from lib_scene.webui_client import request_json

URL = os.environ.get("SCENE_IMPORT_WEBUI_URL", "").rstrip("/")
CKPT = os.environ.get("SCENE_IMPORT_DEPTH_CHECKPOINT", "")
PROBE = os.environ.get("SCENE_IMPORT_PROBE_DIR", "")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOM = os.path.join(ROOT, "samples", "room")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (URL and CKPT and PROBE),
        reason="set SCENE_IMPORT_WEBUI_URL, SCENE_IMPORT_DEPTH_CHECKPOINT and SCENE_IMPORT_PROBE_DIR",
    ),
]

PARAMS = {
    "long_side": 64,
    "seed": 7,
    "steps": 1,
    "depth": {"enabled": False},  # SD 1.5 ControlNet models do not fit an SD 2 U-Net
    "normal": {"enabled": False},
    "regional": {"enabled": False},
}


def _files(cam: str = "Cam0") -> list[dict[str, str]]:
    out = []
    for ext in ("exr", "json"):
        with open(os.path.join(ROOM, f"{cam}.{ext}"), "rb") as fh:
            out.append({"name": f"{cam}.{ext}", "data": base64.b64encode(fh.read()).decode()})
    return out


def _switch(title: str) -> None:
    request_json(URL + "/sdapi/v1/options", {"sd_model_checkpoint": title}, timeout=900)
    got = request_json(URL + "/sdapi/v1/options", timeout=60)["sd_model_checkpoint"]
    # the listed title gains its hash once the file was loaded: "name.safetensors [f8529b978b]"
    assert got.split(" [")[0] == title.split(" [")[0], (
        f"the webui did not load {title!r} (options say {got!r})"
    )


@pytest.fixture(scope="module")
def depth_model():
    before = request_json(URL + "/sdapi/v1/options", timeout=60)["sd_model_checkpoint"]
    titles = [m["title"] for m in request_json(URL + "/sdapi/v1/sd-models", timeout=60)]
    match = [t for t in titles if CKPT in t]
    assert match, f"no checkpoint like {CKPT!r} in {titles}"
    _switch(match[0])
    yield match[0]
    _switch(before)


class Probe:
    """The ``image_cond`` tensors saved by the webui during one request."""

    def __init__(self) -> None:
        self.seen = set(os.listdir(PROBE)) if os.path.isdir(PROBE) else set()

    def new(self) -> list[np.ndarray]:
        time.sleep(0.2)
        names = sorted(set(os.listdir(PROBE)) - self.seen)
        return [np.load(os.path.join(PROBE, n)) for n in names]


def _ours(width: int = 64, height: int = 48, **changes) -> np.ndarray:
    cs = load_cameras(os.path.join(ROOM, "Cam0.exr"))[0]
    plan = build_plan(cs, PlanParams.from_dict({**PARAMS, **changes}), controlnet=False)
    assert (plan.width, plan.height) == (64, 48)
    cond, warning = depth_conditioning(plan.depth_map, width // 8, height // 8)
    assert warning is None
    return cond[0]


def _beauty_png() -> str:
    import io

    from PIL import Image

    cs = load_cameras(os.path.join(ROOM, "Cam0.exr"))[0]
    plan = build_plan(cs, PlanParams.from_dict({**PARAMS, "mode": "img2img"}), controlnet=False)
    buf = io.BytesIO()
    Image.fromarray(plan.init_image, "RGB").save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _infotext(answer) -> str:
    return json.loads(answer["info"])["infotexts"][0]


def _assert_is(received: np.ndarray, ours: np.ndarray) -> None:
    assert received.ndim == 4 and received.shape[1:] == ours.shape, (received.shape, ours.shape)
    for k in range(received.shape[0]):  # the conditional and unconditional halves get the same map
        np.testing.assert_allclose(received[k], ours, atol=1e-5)


def test_img2img_gets_the_scene_depth_then_midas_again(depth_model):
    ours = _ours()
    probe = Probe()
    body = {"init_images": [], "script_name": "scene import", "script_args": [{"files": _files(), **PARAMS}]}
    answer = request_json(URL + "/sdapi/v1/img2img", body, timeout=900)
    assert "Scene Import depth2img: scene depth (MiDaS off)" in _infotext(answer)
    got = probe.new()
    assert got, "the probe saw no image_cond (was the webui started with SCENE_IMPORT_PROBE_DIR?)"
    _assert_is(got[0], ours)

    # the same init image (the beauty render) without Scene Import: A1111 estimates the depth with MiDaS
    init = _beauty_png()
    probe = Probe()
    plain = {
        "init_images": [init],
        "width": 64,
        "height": 48,
        "steps": 1,
        "seed": 7,
        "denoising_strength": 0.5,
    }
    again = request_json(URL + "/sdapi/v1/img2img", plain, timeout=900)
    assert "Scene Import" not in _infotext(again)
    midas = probe.new()[0]
    assert midas.shape[1:] == ours.shape
    assert np.isclose(midas.max(), 1.0, atol=1e-4) and np.isclose(midas.min(), -1.0, atol=1e-4)
    assert np.abs(midas[0] - ours).max() > 0.1, "the run without Scene Import still got the scene depth"


def test_txt2img_with_a_depth_model_works_and_gets_the_scene_depth(depth_model):
    probe = Probe()
    body = {"prompt": "a room", "script_name": "scene import", "script_args": [{"files": _files(), **PARAMS}]}
    answer = request_json(URL + "/sdapi/v1/txt2img", body, timeout=900)  # stock A1111 1.10.1: HTTP 500
    assert "Scene Import depth2img" in _infotext(answer)
    _assert_is(probe.new()[0], _ours())


def test_txt2img_hires_pass_gets_the_scene_depth_at_its_size(depth_model):
    probe = Probe()
    body = {
        "prompt": "a room",
        "enable_hr": True,
        "hr_scale": 2,
        "hr_upscaler": "Lanczos",
        "hr_second_pass_steps": 1,
        "denoising_strength": 0.5,
        "script_name": "scene import",
        "script_args": [{"files": _files(), **PARAMS}],
    }
    request_json(URL + "/sdapi/v1/txt2img", body, timeout=900)
    got = probe.new()
    assert len(got) >= 2, f"{len(got)} sampling passes seen"
    _assert_is(got[0], _ours())
    _assert_is(got[-1], _ours(128, 96))
