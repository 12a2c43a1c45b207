"""Opt-in integration tests against a REAL running webui.

Run only when ``SCENE_IMPORT_WEBUI_URL`` points at an A1111 1.10 (``--api``) with ControlNet
(Mikubill v1.1.455), or a Forge (dfdcbab, built-in ControlNet), with Regional Prompter (be62345) and
this extension installed, e.g.::

    SCENE_IMPORT_WEBUI_URL=http://127.0.0.1:7860 pytest tests/integration -q

Generations are 64 px on the long side with 1-2 steps (a CPU webui with random weights is enough;
start it with --disable-nan-check: images are black, infotext and detected maps are what we check).
Models are found through ``/controlnet/model_list``. The scene is ``samples/room`` when present
(or ``SCENE_IMPORT_SAMPLE_DIR``), else the synthetic test scene written with OpenEXR.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time

import pytest

from lib_scene.plan import choose_model
from lib_scene.webui_client import WebuiError, request_json

URL = os.environ.get("SCENE_IMPORT_WEBUI_URL", "").rstrip("/")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running A1111 with ControlNet, RP and Scene Import"
    ),
]

TIMEOUT = 900
SMALL = {"long_side": 64, "steps": 2, "seed": 1234}


def get(path):
    return request_json(URL + path, timeout=60)


def post(path, body):
    return request_json(URL + path, body, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def version():
    # the webui answers /sdapi/v1/* before it runs the extensions' app_started callbacks, which add
    # our routes (A1111 and Forge alike): a 404 just after start is worth a few retries
    deadline = time.monotonic() + 120
    while True:
        try:
            v = get("/scene-import/v1/version")
            break
        except WebuiError as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                pytest.fail(f"Scene Import is not installed at {URL} ({exc})")
            time.sleep(2)
    assert v["controlnet"] and v["regional_prompter"], (
        f"ControlNet and Regional Prompter must be installed: {v}"
    )
    return v


@pytest.fixture(scope="module")
def models():
    got = get("/controlnet/model_list")["model_list"]
    depth, normal = choose_model("depth", got), choose_model("normal", got)
    assert depth and normal, f"the webui needs a depth and a normalbae ControlNet model, it has {got}"
    return {"depth": depth, "normal": normal}


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    folder = os.environ.get("SCENE_IMPORT_SAMPLE_DIR") or os.path.join(ROOT, "samples", "room")
    names = ["Cam0.exr", "Cam0.json", "Cam1.exr", "Cam1.json"]
    if not all(os.path.isfile(os.path.join(folder, n)) for n in names):
        from scenes import sidecar, write_blender5

        folder = str(tmp_path_factory.mktemp("scene"))
        for cam in ("Cam0", "Cam1"):
            write_blender5(os.path.join(folder, f"{cam}.exr"))
            with open(os.path.join(folder, f"{cam}.json"), "w") as fh:
                json.dump(sidecar(cam), fh)
    out = {}
    for n in names:
        with open(os.path.join(folder, n), "rb") as fh:
            out[n] = {"name": n, "data": base64.b64encode(fh.read()).decode()}
    return out


def cam_files(scene_files, *cams):
    return [scene_files[f"{c}.{ext}"] for c in cams for ext in ("exr", "json")]


def infotext(answer) -> str:
    info = json.loads(answer["info"])
    return info["infotexts"][0]


def cn_entries(text: str) -> dict[int, dict[str, str]]:
    """``ControlNet N: "Module: none, Model: x [h], Weight: 0.3, ..."`` -> {N: {key: value}}."""
    out = {}
    for n, body in re.findall(r'ControlNet (\d+): "([^"]*)"', text):
        out[int(n)] = dict(part.split(": ", 1) for part in body.split(", ") if ": " in part)
    return out


def entry(text: str, key: str) -> str | None:
    m = re.search(rf"(?:^|, ){re.escape(key)}: ([^,\n]*)", text, re.M)
    return m.group(1).strip() if m else None


def passthrough(version: dict) -> str:
    """ControlNet's passthrough module as the host spells it (in the unit and in the infotext):
    "none" in Mikubill's extension on A1111, "None" in Forge's built-in ControlNet."""
    return "None" if version["host"] == "forge" else "none"


def check_units(text: str, models: dict, version: dict):
    units = cn_entries(text)
    kinds = ["depth", "normal"]
    assert len(units) == len(kinds), text
    for i, kind in enumerate(kinds):
        u = units[i]
        assert u["Module"] == passthrough(version) and u["Model"] == models[kind], u
        assert (
            float(u["Weight"]) == 0.3
            and float(u["Guidance Start"]) == 0.0
            and float(u["Guidance End"]) == 0.5
        )
        assert u["Control Mode"] == "Balanced"


def check_rp(text: str, version: dict):
    assert entry(text, "RP Active") == "True", text
    assert entry(text, "RP Divide mode") == "Mask"
    assert entry(text, "RP Calc Mode") == "Attention"
    assert entry(text, "RP Base Ratios") == "0.2"
    assert entry(text, "RP Use Base") == "True"


# --------------------------------------------------------------------------- our routes


def test_routes(version, scene_files, models):
    assert version["script"] == "scene import" and version["api"] == 1
    schema = get("/scene-import/v1/schema")
    assert schema["properties"]["depth"]["properties"]["guidance_end"]["default"] == 0.5
    out = post("/scene-import/v1/plan", {"files": cam_files(scene_files, "Cam0"), "params": SMALL})
    (item,) = out["plans"]
    units = item["payload"]["alwayson_scripts"]["ControlNet"]["args"]
    assert units[0]["model"] == models["depth"] and len(units) == version["controlnet_units"]
    assert units[0]["module"] == passthrough(version)  # the host's own spelling, or ControlNet skips it
    assert item["endpoint"] == "/sdapi/v1/txt2img"


def test_route_errors_are_4xx(version):
    with pytest.raises(WebuiError, match=r"HTTP 422: .*did you mean 'depth.weight'"):
        post("/scene-import/v1/plan", {"params": {"depth": {"wieght": 1}}})
    with pytest.raises(WebuiError, match="HTTP 403"):
        post("/scene-import/v1/plan", {"scene": "/etc"})


# --------------------------------------------------------------------------- a plan payload posted as-is


@pytest.fixture(scope="module")
def posted_payload(version, scene_files):
    out = post(
        "/scene-import/v1/plan",
        {"files": cam_files(scene_files, "Cam0"), "params": {**SMALL, "base_prompt": "a room"}},
    )
    item = out["plans"][0]
    return item, post(item["endpoint"], item["payload"])


def test_payload_as_is_drives_controlnet(posted_payload, models, version):
    item, answer = posted_payload
    text = infotext(answer)
    check_units(text, models, version)
    n_units = len(cn_entries(text))
    assert len(answer["images"]) == 1 + n_units  # the detected maps come back: each unit ran


def test_payload_as_is_drives_regional_prompter(posted_payload, version):
    item, answer = posted_payload
    check_rp(infotext(answer), version)
    assert item["payload"]["prompt"].count("BREAK") == len(item["plan"]["regional"]["colors"])


# --------------------------------------------------------------------------- the dropdown Script


@pytest.fixture(scope="module")
def dropdown_txt2img(version, scene_files):
    body = {
        "prompt": "a cosy room",
        "steps": 2,
        "script_name": "scene import",
        "script_args": [{"files": cam_files(scene_files, "Cam0"), "long_side": 64, "seed": 99}],
    }
    return post("/sdapi/v1/txt2img", body)


def test_dropdown_txt2img_controlnet(dropdown_txt2img, models, version):
    text = infotext(dropdown_txt2img)
    check_units(text, models, version)
    assert entry(text, "Scene Import camera") == "Cam0"
    assert entry(text, "Size") == "64x48" and entry(text, "Seed") == "99"


def test_dropdown_txt2img_regional_prompter(dropdown_txt2img, version):
    text = infotext(dropdown_txt2img)
    check_rp(text, version)
    assert text.startswith("a cosy room BREAK ")


def test_dropdown_img2img_from_the_beauty(version, scene_files, models):
    body = {
        "init_images": [],
        "steps": 2,
        "script_name": "scene import",
        "script_args": [{"files": cam_files(scene_files, "Cam0"), "long_side": 64, "base_prompt": "a room"}],
    }
    text = infotext(post("/sdapi/v1/img2img", body))
    check_units(text, models, version)
    assert entry(text, "Denoising strength") == "0.52"
    check_rp(text, version)


def test_dropdown_several_cameras_share_a_seed(version, scene_files):
    body = {
        "prompt": "a room",
        "steps": 1,
        "script_name": "scene import",
        "script_args": [{"files": cam_files(scene_files, "Cam0", "Cam1"), "long_side": 64}],
    }
    info = json.loads(post("/sdapi/v1/txt2img", body)["info"])
    texts = [t for t in info["infotexts"] if "Scene Import camera" in t]
    assert [entry(t, "Scene Import camera") for t in texts][:2] == ["Cam0", "Cam1"]
    assert len({entry(t, "Seed") for t in texts}) == 1


@pytest.mark.parametrize(
    ("script_args", "needle"),
    [
        ([], "script"),
        # refusals from the Script under the API are 4xx by type (an HTTPException), not 500
        ([{"depth": {"wieght": 1}}], "HTTP 422: .*did you mean 'depth.weight'"),
        (["not json"], "HTTP 422: .*not valid JSON"),
        ([{"scene": "/etc"}], "HTTP 403: "),
    ],
)
def test_dropdown_bad_args_are_clear_errors(version, script_args, needle):
    body = {
        "prompt": "x",
        "steps": 1,
        "width": 64,
        "height": 64,
        "script_name": "scene import",
        "script_args": script_args,
    }
    with pytest.raises(WebuiError, match=needle):
        post("/sdapi/v1/txt2img", body)


def test_settings_defaults_changed_through_the_api(version, scene_files):
    """Every default is an A1111 option (scene_import_<key>), settable via /sdapi/v1/options."""
    try:
        post(
            "/sdapi/v1/options", {"scene_import_depth_weight": 0.45, "scene_import_regional_base_ratio": 0.3}
        )
        out = post(
            "/scene-import/v1/plan", {"files": cam_files(scene_files, "Cam0"), "params": {"long_side": 64}}
        )
        body = out["plans"][0]["payload"]
        assert body["alwayson_scripts"]["ControlNet"]["args"][0]["weight"] == 0.45
        assert body["alwayson_scripts"]["Regional Prompter"]["args"][7] == "0.3"
    finally:
        post("/sdapi/v1/options", {"scene_import_depth_weight": 0.3, "scene_import_regional_base_ratio": 0.2})


def test_dropdown_server_folder(version, models):
    """A scene folder on the server (inside --scene-import-allowed-dir), named by SCENE_IMPORT_WEBUI_SCENE."""
    folder = os.environ.get("SCENE_IMPORT_WEBUI_SCENE")
    if not folder:
        pytest.skip(
            "set SCENE_IMPORT_WEBUI_SCENE to a scene folder inside the webui's --scene-import-allowed-dir"
        )
    body = {
        "prompt": "a room",
        "steps": 1,
        "script_name": "scene import",
        "script_args": [{"scene": folder, "camera": "Cam0", "long_side": 64}],
    }
    text = infotext(post("/sdapi/v1/txt2img", body))
    check_units(text, models, version)
    assert entry(text, "Scene Import camera") == "Cam0"
    with pytest.raises(WebuiError, match="outside the folders"):
        post("/scene-import/v1/plan", {"scene": os.path.dirname(os.path.abspath(folder)) + "/.."})
