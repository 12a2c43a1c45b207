"""Opt-in: the dropdown Script driven through the ``webuiapi`` client (PyPI ``webuiapi`` 0.9.17),
the way people script A1111: ``txt2img``/``img2img`` with ``script_name`` and ``script_args``.

Needs ``SCENE_IMPORT_WEBUI_URL`` (a running A1111 1.10 or Forge with ``--api``, ControlNet, Regional
Prompter and Scene Import) and ``webuiapi`` installed (tests/requirements-a1111.txt pins it; it moves
none of A1111's pins). The canvases are samples/room's Cam0, uploaded inside ``script_args``.
"""

from __future__ import annotations

import base64
import os

import pytest

URL = os.environ.get("SCENE_IMPORT_WEBUI_URL", "").rstrip("/")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOM = os.environ.get("SCENE_IMPORT_SAMPLE_DIR") or os.path.join(ROOT, "samples", "room")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running webui with Scene Import"),
]
webuiapi = pytest.importorskip("webuiapi")


def files(camera: str = "Cam0") -> list[dict]:
    out = []
    for ext in ("exr", "json"):
        with open(os.path.join(ROOM, f"{camera}.{ext}"), "rb") as fh:
            out.append({"name": f"{camera}.{ext}", "data": base64.b64encode(fh.read()).decode()})
    return out


@pytest.fixture(scope="module")
def api():
    return webuiapi.WebUIApi(baseurl=URL + "/sdapi/v1", sampler="Euler", steps=2)


def entries(text: str) -> dict[str, str]:
    """The last line of an infotext as {key: value} (values without commas are enough here)."""
    last = text.strip().split("\n")[-1]
    return dict(part.split(": ", 1) for part in last.split(", ") if ": " in part)


def test_txt2img_through_webuiapi(api):
    result = api.txt2img(
        prompt="a cosy room",
        script_name="scene import",
        script_args=[{"files": files(), "long_side": 64, "seed": 5}],
    )
    text = result.info["infotexts"][0]
    got = entries(text)
    assert got["Scene Import camera"] == "Cam0" and got["Size"] == "64x48" and got["Seed"] == "5"
    assert got["Script"] == "Scene Import" and got["RP Active"] == "True"
    assert text.startswith("a cosy room BREAK ") and text.count("ControlNet ") == 2
    assert result.image.size == (64, 48)


def test_img2img_through_webuiapi_starts_from_the_beauty(api):
    result = api.img2img(
        images=[],
        prompt="",
        script_name="scene import",
        script_args=[{"files": files(), "long_side": 64, "base_prompt": "a room", "seed": 5}],
    )
    got = entries(result.info["infotexts"][0])
    assert got["Denoising strength"] == "0.52" and got["Size"] == "64x48"
    assert got["Scene Import camera"] == "Cam0"


def test_a_refusal_reaches_the_webuiapi_caller_as_a_4xx(api):
    with pytest.raises(RuntimeError) as info:
        api.txt2img(prompt="x", script_name="scene import", script_args=[{"depth": {"wieght": 1}}])
    status, body = info.value.args
    assert status == 422 and "did you mean 'depth.weight'" in body
