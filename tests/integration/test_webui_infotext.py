"""Opt-in: Scene Import's infotext on images made from payloads, against a REAL webui (A1111 1.10.1 or
Forge with ControlNet, Regional Prompter and this extension; see test_webui.py for how to run it).

* a ``/scene-import/v1/plan`` payload POSTed as is to ``/sdapi/v1/txt2img`` makes an image whose
  ``info`` and PNG ``parameters`` carry our entries (version, camera, params), with one seed: the
  always-on companion Script "Scene Import infotext" put them there;
* the webui answers 422 for an always-on script it lacks (why payloads carry the companion's entry
  only for a webui that has Scene Import);
* a bad companion arg is left out with a warning: the image is still made, no traceback in the log;
* CLI ``run`` saves the infotext with our entries, and its rerun generates nothing.

``SCENE_IMPORT_WEBUI_SCENE``: the scene folder inside the webui's allowed folder (for ``/plan`` with a
server folder); ``SCENE_IMPORT_WEBUI_LOG``: the webui's log (checked for tracebacks).
"""

from __future__ import annotations

import base64
import io
import json
import os
import time

import pytest
import test_webui as tw
from PIL import Image

from lib_scene.cli import main
from lib_scene.webui_client import WebuiError
from lib_scene.wire import INFOTEXT_SCRIPT

URL, entry, post, get = tw.URL, tw.entry, tw.post, tw.get
version = tw.version  # fixture
SCENE = os.environ.get("SCENE_IMPORT_WEBUI_SCENE", "")
LOG = os.environ.get("SCENE_IMPORT_WEBUI_LOG", "")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOM = os.path.join(ROOT, "samples", "room")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running A1111 with ControlNet, RP and Scene Import"
    ),
]


def files(*names):
    return [
        {"name": n, "data": base64.b64encode(open(os.path.join(ROOM, n), "rb").read()).decode()}
        for n in names
    ]


def png_parameters(b64: str) -> str:
    with Image.open(io.BytesIO(base64.b64decode(b64.split(",", 1)[-1]))) as im:
        return str(im.info.get("parameters", ""))


@pytest.fixture
def log_mark():
    """The webui log's new lines after the test (None without SCENE_IMPORT_WEBUI_LOG)."""
    start = os.path.getsize(LOG) if LOG and os.path.isfile(LOG) else None
    lines: list[str] = []
    yield lines
    if start is not None:
        time.sleep(0.5)
        with open(LOG, encoding="utf-8", errors="replace") as fh:
            fh.seek(start)
            lines.append(fh.read())


def test_the_webui_names_the_companion_script(version):
    assert version["infotext_script"] == INFOTEXT_SCRIPT
    info = get("/sdapi/v1/script-info")
    ours = [s for s in info if s["name"] == INFOTEXT_SCRIPT]
    assert {s["is_img2img"] for s in ours} == {False, True} and all(s["is_alwayson"] for s in ours)
    assert all(len(s["args"]) == 1 for s in ours)


@pytest.mark.parametrize("source", ["upload", "scene"])
def test_a_plan_payload_makes_an_image_with_our_infotext_and_one_seed(version, source):
    if source == "scene" and not SCENE:
        pytest.skip("set SCENE_IMPORT_WEBUI_SCENE to the scene folder inside the webui's allowed folder")
    body = {"params": {"long_side": 64, "steps": 1, "camera": "Cam0", "base_prompt": "a cosy room"}}
    body.update({"files": files("Cam0.exr", "Cam0.json")} if source == "upload" else {"scene": SCENE})
    (item,) = post("/scene-import/v1/plan", body)["plans"]
    payload = item["payload"]
    assert payload["seed"] != -1 and INFOTEXT_SCRIPT in payload["alwayson_scripts"]
    answer = post(item["endpoint"], payload)
    info = json.loads(answer["info"])
    text = info["infotexts"][0]
    assert info["all_seeds"] == [payload["seed"]] and entry(text, "Seed") == str(payload["seed"])
    assert entry(text, "Scene Import camera") == "Cam0" and entry(text, "Scene Import") == version["version"]
    assert "Scene Import params: " in text and "RP Active: True" in text and "ControlNet 0: " in text
    params = png_parameters(answer["images"][0])
    assert "Scene Import camera: Cam0" in params and f"Seed: {payload['seed']}" in params
    if source == "upload":  # the server's upload folder never shows
        assert "scene-import-uploads" not in text and "/tmp" not in text


def test_an_unknown_always_on_script_is_a_422():
    body = {"prompt": "x", "steps": 1, "width": 64, "height": 64}
    with pytest.raises(WebuiError) as err:
        post("/sdapi/v1/txt2img", {**body, "alwayson_scripts": {"no such script": {"args": [{}]}}})
    assert err.value.status == 422 and "not found" in err.value.problem


def test_a_bad_companion_arg_is_left_out_not_a_failed_generation(log_mark):
    arg = {"Script": "X/Y/Z plot", "Scene Import params": "/etc/passwd", "Scene Import camera": "Cam\n9"}
    body = {"prompt": "x", "steps": 1, "width": 64, "height": 64, "seed": 5}
    answer = post("/sdapi/v1/txt2img", {**body, "alwayson_scripts": {INFOTEXT_SCRIPT: {"args": [arg]}}})
    text = json.loads(answer["info"])["infotexts"][0]
    assert entry(text, "Scene Import camera") == "Cam 9" and "Scene Import params" not in text
    assert "X/Y/Z plot" not in text and len(answer["images"]) == 1
    for wrong in ([1, 2], "text", None):
        answer = post("/sdapi/v1/txt2img", {**body, "alwayson_scripts": {INFOTEXT_SCRIPT: {"args": [wrong]}}})
        assert "Scene Import" not in json.loads(answer["info"])["infotexts"][0]
    for new in log_mark:
        assert "Traceback" not in new and "Scene Import infotext: left out" in new, new[-3000:]


def test_cli_run_saves_our_infotext_and_its_rerun_generates_nothing(tmp_path, capsys, version):
    out = tmp_path / "out"
    args = ["run", ROOM, "--webui", URL, "--out", str(out), "--camera", "Cam0", "--seed", "77"]
    assert main([*args, "--params", '{"long_side": 64, "steps": 1}']) == 0
    text = (out / "Cam0.infotext.txt").read_text()
    assert "Seed: 77" in text and entry(text, "Scene Import camera") == "Cam0"
    assert "Scene Import params: " in text
    with Image.open(out / "Cam0.png") as im:
        assert "Scene Import camera: Cam0" in str(im.info.get("parameters", ""))
    meta = json.loads((out / "Cam0.info.json").read_text())["scene_import"]
    assert meta["seed"] == 77 and len(meta["plan_hash"]) == 64
    capsys.readouterr()
    assert main([*args, "--params", '{"long_side": 64, "steps": 1}']) == 0
    assert "0 image(s) written, 1 already there with the same plan (skipped: Cam0)" in capsys.readouterr().out
