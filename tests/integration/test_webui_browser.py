"""Opt-in: the whole artist path in a REAL webui, in headless Chromium.

Open the Scene Import tab of a running A1111 (``SCENE_IMPORT_WEBUI_URL``), open a scene folder
inside its allowed roots (``SCENE_IMPORT_WEBUI_SCENE``, a copy of samples/room in a folder the
webui was started with ``--scene-import-allowed-dir`` for), build the regions, "Send to txt2img",
make the run cheap (1 step, long side 64), press A1111's own Generate, and read the infotext:
ControlNet got both units and Regional Prompter ran in Mask mode.

Skipped without the URL, the scene folder, Chromium or Playwright. Never downloads a browser.
"""

from __future__ import annotations

import base64
import io
import json
import os

import numpy as np
import pytest
from browser import ARGS, CHROMIUM
from PIL import Image

from lib_scene.webui_client import request_json

URL = os.environ.get("SCENE_IMPORT_WEBUI_URL", "").rstrip("/")
SCENE = os.environ.get("SCENE_IMPORT_WEBUI_SCENE", "")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running A1111 with Scene Import"),
    pytest.mark.skipif(
        not SCENE, reason="set SCENE_IMPORT_WEBUI_SCENE to a scene folder inside its allowed roots"
    ),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api")

STATUS = "(document.querySelector('#scene-import-status') || {innerText: ''}).innerText"


def test_tab_send_to_txt2img_and_generate_in_the_real_webui():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        page.set_default_timeout(180_000)
        try:
            page.goto(URL + "/")
            page.wait_for_selector("#tabs")
            page.locator("#tabs button", has_text="Scene Import").first.click()
            page.fill("#scene-import-folder textarea", SCENE)
            page.click("#scene-import-open")
            page.wait_for_function(f"() => {STATUS}.includes('Loaded')")

            page.locator("#scene-import-panels button", has_text="Regions").first.click()
            page.wait_for_function(f"() => {STATUS}.includes('region(s) from')")
            regions = page.evaluate(f"() => {STATUS}")

            page.locator("#scene-import-panels button", has_text="Generate").first.click()
            page.click("#scene-import-send-txt2img")
            box = "document.querySelector('#scene-import-params-txt2img textarea')"
            page.wait_for_function(f"() => ({box} || {{value: ''}}).value.includes('splits')")
            chosen = page.evaluate(
                "() => document.querySelector('#txt2img_script_container #script_list input').value"
            )
            assert chosen == "Scene Import"

            steps = page.locator("#txt2img_steps input[type=number]")
            steps.fill("1")
            steps.press("Enter")
            long_side = page.locator("#scene-import-long-side-txt2img input[type=number]")
            long_side.fill("64")
            long_side.press("Enter")
            page.wait_for_function(f"() => JSON.parse({box}.value).long_side === 64")
            params = json.loads(page.evaluate(f"() => {box}.value"))
            assert (
                params["splits"]["splits"] and params["camera"] and params["scene"]
            )  # the tab's settings survived

            page.click("#txt2img_generate")
            page.wait_for_function(
                "() => { const e = document.querySelector('#html_info_txt2img'); "
                "return e && e.innerText.includes('Steps: 1'); }"
            )
            info = page.inner_text("#html_info_txt2img")
        finally:
            browser.close()
    assert f"Scene Import camera: {params['camera']}" in info
    assert info.count("Guidance End: 0.5") == 2 and info.count("Weight: 0.3") >= 2
    assert "RP Active: True" in info and "RP Divide mode: Mask" in info
    n_regions = int(regions.split(" region(s)")[0].split()[-1])
    assert info.split("\n")[0].count("BREAK") == n_regions  # one section per region after the base


def _api_image_with_scene_import(tmp_path):
    """A 64 px, 1-step txt2img through the dropdown Script on the server folder, as A1111's API
    returns it (a PNG whose 'parameters' text is the infotext); saved to a file for PNG Info."""
    body = {
        "prompt": "a cosy room",
        "steps": 1,
        "script_name": "scene import",
        "script_args": [{"scene": SCENE, "camera": "Cam0", "long_side": 64, "seed": 4242}],
    }
    answer = request_json(URL + "/sdapi/v1/txt2img", body, timeout=900)
    png = base64.b64decode(answer["images"][0])
    path = tmp_path / "scene-import.png"
    path.write_bytes(png)
    text = Image.open(io.BytesIO(png)).info.get("parameters", "")
    assert "Scene Import params" in text and "Script: Scene Import" in text, text
    return path, png, json.loads(answer["info"])["infotexts"][0]


def _plan_payload_image(tmp_path):
    """The same kind of image from a ``/scene-import/v1/plan`` payload POSTed as is (no dropdown
    Script: the companion infotext Script records Scene Import), with no base prompt: the case where
    pasting the whole BREAK prompt into the prompt box would double the regions."""
    body = {"scene": SCENE, "params": {"camera": "Cam0", "long_side": 64, "seed": 4242, "steps": 1}}
    (item,) = request_json(URL + "/scene-import/v1/plan", body, timeout=900)["plans"]
    answer = request_json(URL + item["endpoint"], item["payload"], timeout=900)
    png = base64.b64decode(answer["images"][0])
    path = tmp_path / "plan-payload.png"
    path.write_bytes(png)
    text = Image.open(io.BytesIO(png)).info.get("parameters", "")
    assert "Scene Import params" in text and "Script: Scene Import" not in text, text
    return path, png, json.loads(answer["info"])["infotexts"][0]


@pytest.mark.parametrize("made_by", ["script", "plan payload"])
def test_png_info_brings_the_script_back_selected_and_generates_the_same_image(tmp_path, made_by):
    """PNG Info -> Send to txt2img selects Scene Import with the image's params; Generate then makes
    the same image (byte-identical pixels on this deterministic CPU webui): the Script ran, redrew
    Regional Prompter's mask and rewrote its whole slice (RP alone fails on the pasted state). The
    same for an image made from a /plan payload with no base prompt: the regions are not doubled."""
    made = _api_image_with_scene_import if made_by == "script" else _plan_payload_image
    path, png, first = made(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        page.set_default_timeout(180_000)
        try:
            page.goto(URL + "/")
            page.wait_for_selector("#tabs")
            page.locator("#tabs button", has_text="PNG Info").first.click()
            page.set_input_files("#pnginfo_image input[type=file]", str(path))
            page.wait_for_function(
                "() => (document.querySelector('#tab_pnginfo') || {innerText: ''})"
                ".innerText.includes('Scene Import camera')"
            )
            page.locator("#tab_pnginfo button", has_text="Send to txt2img").first.click()
            box = "document.querySelector('#scene-import-params-txt2img textarea')"
            page.wait_for_function(f"() => ({box} || {{value: ''}}).value.includes('Cam0')")
            page.wait_for_function(
                "() => document.querySelector('#txt2img_script_container #script_list input')"
                ".value === 'Scene Import'"
            )
            pasted = json.loads(page.evaluate(f"() => {box}.value"))
            visible = page.locator("#scene-import-script-txt2img").is_visible()
            page.click("#txt2img_generate")
            page.wait_for_function(
                "() => { const e = document.querySelector('#html_info_txt2img'); "
                "return e && e.innerText.includes('Scene Import camera'); }"
            )
            info = page.inner_text("#html_info_txt2img")
            src = page.locator("#txt2img_gallery img").first.get_attribute("src")
            again = page.request.get(src if src.startswith("http") else URL + "/" + src.lstrip("/")).body()
        finally:
            browser.close()
    params = json.loads(_entry(first, "Scene Import params"))
    assert pasted == params and visible  # the Script is back, selected, with the same params
    assert info.split("\n")[0] == first.split("\n")[0]  # the same BREAK prompt, not doubled
    assert "RP Active: True" in info and "Seed: 4242" in info and "Script: Scene Import" in info
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    b = np.asarray(Image.open(io.BytesIO(again)).convert("RGB"))
    assert a.shape == b.shape == (48, 64, 3) and np.array_equal(a, b)


def _entry(text: str, key: str) -> str:
    """One infotext entry's value, unquoted the way A1111 quotes values with commas (JSON strings)."""
    tail = text.split(f"{key}: ", 1)[1]
    if tail.startswith('"'):
        return json.JSONDecoder().raw_decode(tail)[0]
    return tail.split(",", 1)[0]
