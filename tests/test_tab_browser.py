"""The Scene Import tab in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Python Playwright, against the tab built standalone with gradio (3.41.2 in CI), no A1111.

The tab is rendered inside a small stand-in for A1111's page: a ``#tabs`` Tabs with a txt2img tab
holding ``#txt2img_script_container`` > ``#script_list`` (the Script dropdown) and the hidden
``#scene-import-params-txt2img`` box of the dropdown script, the way A1111 1.10.1 lays them out
(modules/ui.py, modules/scripts.py). That stand-in is test scaffolding, not a fake of behaviour:
it lets "Send to txt2img" be checked end to end (tab switch, dropdown pick, params reaching Python).

The steps run in order and share one page; each later step builds on the earlier ones.
Skipped when Chromium, gradio or playwright is missing. Never downloads a browser.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys

import numpy as np
import pytest
from browser import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "samples", "room")
MIRROR_LEVELS = [90, 4, 60, 90, 12]
MODELS = ("control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_normalbae [316696f1]")
MIRROR_NAMES = ["a woman's face", "her raised hand", "the mirror frame", "her reflection", "the far wall"]

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
gr = pytest.importorskip("gradio")
sync_api = pytest.importorskip("playwright.sync_api")


# --------------------------------------------------------------------------- the app


def _scene(tmp: str) -> str:
    """The sample room when the checkout has it, else cameras written with OpenEXR here."""
    if os.path.isdir(SAMPLE) and any(n.endswith(".exr") for n in os.listdir(SAMPLE)):
        dest = os.path.join(tmp, "room")
        shutil.copytree(SAMPLE, dest)
        return dest
    from scenes import sidecar, write_blender5

    dest = os.path.join(tmp, "room")
    os.makedirs(dest)
    for k in range(3):
        write_blender5(os.path.join(dest, f"Cam{k}.exr"), width=512, height=384)
        with open(os.path.join(dest, f"Cam{k}.json"), "w") as fh:
            json.dump(sidecar(f"Cam{k}", 512, 384), fh)
    return dest


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _host_page(tab):
    """A1111's page layout around the tab, as far as Send-to touches it."""
    from scene_import_a1111.standalone import extension_css, load_js_on_start

    with gr.Blocks(analytics_enabled=False, css=extension_css()) as host:
        with gr.Tabs(elem_id="tabs"):
            for name in ("txt2img", "img2img"):
                with gr.Tab(name, elem_id=f"tab_{name}"):
                    with gr.Group(elem_id=f"{name}_script_container"):
                        dd = gr.Dropdown(
                            ["None", "Prompt matrix", "Scene Import"],
                            value="None",
                            label="Script",
                            elem_id="script_list",
                        )
                        with gr.Group(visible=False) as grp:
                            params = gr.Textbox(visible=False, elem_id=f"scene-import-params-{name}")
                        dd.change(lambda v: gr.update(visible=v == "Scene Import"), dd, grp)
                    seed = gr.Number(label="Seed", value=-1, precision=0, elem_id=f"{name}_seed")
                    echo_btn = gr.Button("echo", elem_id=f"echo-{name}")
                    echo = gr.Textbox(label="what the script would receive", elem_id=f"echo-out-{name}")
                    echo_btn.click(
                        lambda p, v, sd: json.dumps({"script": v, "params": p, "seed": sd}),
                        [params, dd, seed],
                        echo,
                    )
            with gr.Tab("Scene Import", elem_id="tab_scene_import"):
                tab.render()
        load_js_on_start(host)
    return host


class RecordingHost:
    """Stands in for A1111's generation in this standalone page (the real one is
    scene_import_a1111.runner.TabHost, tested against a real webui in tests/integration): it keeps
    the plans it is given and returns each plan's ControlNet depth image as the "generated" one."""

    def __init__(self):
        self.plans = []

    def run_plan(self, plan):
        from PIL import Image

        self.plans.append(plan)
        return [Image.fromarray(plan.units[0].image)]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.path.insert(0, ROOT)
    from scene_import_a1111 import runner
    from scene_import_a1111.tab import build_tab
    from scene_import_a1111.tab.plans import Facts

    tmp = str(tmp_path_factory.mktemp("tab"))
    scene = _scene(tmp)
    presets = os.path.join(tmp, "presets")
    recorder = RecordingHost()
    tab = build_tab(
        host=recorder, allowed_dirs=[tmp], presets_dir=presets, facts=lambda: Facts(models=MODELS)
    )
    host = _host_page(tab)
    port = _free_port()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "UPLOADS_ROOT", os.path.join(tmp, "uploads"))  # the Script's upload store
        host.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        try:
            yield {
                "url": f"http://127.0.0.1:{port}/",
                "scene": scene,
                "presets": presets,
                "tmp": tmp,
                "uploads": os.path.join(tmp, "uploads"),
                "recorder": recorder,
            }
        finally:
            host.close()


@pytest.fixture(scope="module")
def page(app):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pg = browser.new_page(viewport={"width": 1600, "height": 1250})
        pg.set_default_timeout(30000)
        pg.goto(app["url"])
        pg.wait_for_selector("#tabs")
        try:
            yield pg
        finally:
            browser.close()


# --------------------------------------------------------------------------- page helpers


def status(pg) -> str:
    return pg.inner_text("#scene-import-status")


def _wait(pg, js: str, arg=None, what: str = ""):
    """page.wait_for_function that, on timeout, says what the tab's status line showed."""
    try:
        pg.wait_for_function(js, arg=arg)
    except sync_api.TimeoutError as exc:
        shot = os.path.join(os.environ.get("TMPDIR", "/tmp"), "scene-import-browser-failure.png")
        pg.screenshot(path=shot, full_page=True)
        raise AssertionError(
            f"timed out waiting for {what or js}; status: {status(pg)!r}; screenshot {shot}"
        ) from exc


def wait_status(pg, text: str):
    _wait(
        pg,
        "t => (document.querySelector('#scene-import-status') || {}).innerText.includes(t)",
        text,
        f"status {text!r}",
    )


def img_src(pg, elem_id: str) -> str:
    return pg.locator(f"#{elem_id} img").first.get_attribute("src") or ""


def wait_src_change(pg, elem_id: str, old: str):
    _wait(
        pg,
        "([id, old]) => { const i = document.querySelector('#' + id + ' img'); return i && i.src && i.src !== old; }",
        [elem_id, old],
        f"a new image in #{elem_id}",
    )


def table_rows(pg, elem_id: str = "scene-import-splits") -> list[list[str]]:
    return pg.eval_on_selector_all(
        f"#{elem_id} tbody tr",
        "rows => rows.map(r => Array.from(r.querySelectorAll('td')).map(td => td.innerText.trim()))",
    )


def headers(pg, elem_id: str) -> list[str]:
    return pg.eval_on_selector_all(f"#{elem_id} thead th", "hs => hs.map(h => h.innerText.trim())")


def toasts(pg, text: str) -> int:
    return pg.eval_on_selector_all(
        ".toast-body", "(ts, t) => ts.filter(b => b.innerText.includes(t)).length", text
    )


def wait_rows(pg, n: int, elem_id: str = "scene-import-splits"):
    _wait(
        pg,
        "([id, n]) => document.querySelectorAll('#' + id + ' tbody tr').length === n",
        [elem_id, n],
        f"{n} rows in #{elem_id}",
    )


def set_number(pg, elem_id: str, value):
    field = pg.locator(f"#{elem_id} input")
    field.fill(str(value))
    field.dispatch_event("input")


def edit_cell(pg, elem_id: str, row: int, col: int, value):
    cell = pg.locator(f"#{elem_id} tbody tr").nth(row).locator("td").nth(col)
    cell.dblclick()
    box = cell.locator("input, textarea").first
    box.wait_for()
    box.fill(str(value))
    box.press("Enter")
    pg.wait_for_function(
        "([id, r, c, v]) => { const td = document.querySelectorAll('#' + id + ' tbody tr')[r].querySelectorAll('td')[c];"
        " return !td.querySelector('input') && td.innerText.trim() === v; }",
        arg=[elem_id, row, col, str(value)],
    )


def click_pixel(pg, elem_id: str, x: float, y: float):
    """Click the preview image at natural pixel (x, y) (the image is shown scaled, letterboxed)."""
    img = pg.locator(f"#{elem_id} img").first
    box = img.bounding_box()
    nw, nh = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    scale = max(nw / box["width"], nh / box["height"])
    ox = (box["width"] - nw / scale) / 2
    oy = (box["height"] - nh / scale) / 2
    pg.mouse.click(box["x"] + ox + x / scale, box["y"] + oy + y / scale)


def clicked(pg, pv, x: int, y: int) -> float:
    """After a click on a preview: the pixel the tab used (from its status line) is the one aimed
    at (within the browser's rounding of mouse positions), and the split is at that pixel's depth."""
    import re

    m = re.search(r"Added a split at ([-+0-9.e]+) \(pixel (\d+), (\d+)\)", status(pg))
    assert m, status(pg)
    d, px, py = float(m.group(1)), int(m.group(2)), int(m.group(3))
    assert abs(px - x) <= 2 and abs(py - y) <= 2, (px, py, x, y)
    assert d == pytest.approx(float(pv.depth[py, px]), rel=1e-5)
    return float(pv.depth[py, px])


def preview_of(scene: str, camera: str):
    from lib_scene.canvas import load_multilayer
    from lib_scene.preview import prepare

    return prepare(load_multilayer(os.path.join(scene, camera + ".exr")))


def pixel_at_depth(pv, target: float) -> tuple[int, int, float]:
    """A hit preview pixel whose depth is closest to ``target`` (away from the border)."""
    d = np.where(pv.hit, pv.depth, np.inf).astype(np.float64)
    d[:8], d[-8:], d[:, :8], d[:, -8:] = np.inf, np.inf, np.inf, np.inf
    y, x = np.unravel_index(np.argmin(np.abs(d - target)), d.shape)
    return int(x), int(y), float(pv.depth[y, x])


# --------------------------------------------------------------------------- the steps


def test_1_bad_upload_is_reported_and_tab_keeps_working(page, app, tmp_path):
    page.locator("#tabs button", has_text="Scene Import").first.click()
    bad = tmp_path / "Broken.exr"
    bad.write_bytes(b"this is not an EXR file at all")
    # a good camera next to a bad one: the good one loads, the bad one is named with its problem
    good = os.path.join(app["scene"], "Cam1.exr")
    page.set_input_files(
        "#scene-import-upload input[type=file]", [str(bad), good, os.path.join(app["scene"], "Cam1.json")]
    )
    wait_status(page, "Loaded 1 camera(s)")
    info = page.inner_text("#scene-import-cameras")
    assert "Broken.exr" in info and "Cam1" in info
    assert "sidecar Cam1.json" in info
    assert len(table_rows(page)) >= 1
    # staged in the Script's upload store (one folder, named by an upload id)
    (staged,) = os.listdir(app["uploads"])
    assert len(staged) == 32 and "Cam1.exr" in os.listdir(os.path.join(app["uploads"], staged))
    app["staged"] = os.path.join(app["uploads"], staged)
    # no regions yet: the empty region table still has its headers (not "0 1 2 3 4")
    from lib_scene.session import REGION_COLUMNS

    assert headers(page, "scene-import-region-table") == REGION_COLUMNS


def test_2_load_sample_scene_folder(page, app):
    page.fill(
        "#scene-import-folder textarea, #scene-import-folder input", os.path.join(app["tmp"], "..", "nowhere")
    )
    page.click("#scene-import-open")
    wait_status(page, "outside the folders the webui admin allowed")
    page.fill("#scene-import-folder textarea, #scene-import-folder input", app["scene"])
    page.click("#scene-import-open")
    wait_status(page, "Loaded 3 camera(s)")
    assert not os.path.exists(app["staged"])  # the upload was replaced: its staged folder is gone
    info = page.inner_text("#scene-import-cameras")
    for cam in ("Cam0", "Cam1", "Cam2"):
        assert cam in info
    assert "no-hit" in info and "passes: depth, normal, beauty" in info
    wait_rows(page, len(table_rows(page)))
    for elem in ("scene-import-depth-preview", "scene-import-histogram"):
        src = img_src(page, elem)  # a data URL on gradio 3, a served file on 4; PNG (lossless) on both
        assert src.startswith("data:image/png") or src.endswith(".png"), src
    assert "levels used" in page.inner_text("#scene-import-usage")


def test_3_click_adds_split_and_allocate_changes_previews(page, app):
    page.click("#scene-import-one-split")
    wait_status(page, "One split over the hit depth range")
    wait_rows(page, 1)
    assert table_rows(page)[0][3] == "256"
    pv = preview_of(app["scene"], "Cam0")
    lo, hi = pv.index.range
    x, y, _ = pixel_at_depth(pv, lo + 0.4 * (hi - lo))
    before_depth = img_src(page, "scene-import-depth-preview")
    before_hist = img_src(page, "scene-import-histogram")
    click_pixel(page, "scene-import-beauty-preview", x, y)
    wait_rows(page, 2)
    wait_status(page, "Added a split at")
    d = clicked(page, pv, x, y)
    rows = table_rows(page)
    assert float(rows[0][2]) == pytest.approx(d, rel=1e-5) and float(rows[1][1]) == pytest.approx(d, rel=1e-5)
    assert int(rows[0][3]) + int(rows[1][3]) == 256
    wait_src_change(page, "scene-import-histogram", before_hist)
    # allocate: the new far split gets 30 levels; the previews and the readout change
    page.click("#scene-import-zero")
    wait_status(page, "All levels are free")
    before_depth = img_src(page, "scene-import-depth-preview")
    set_number(page, "scene-import-split-no", 1)
    set_number(page, "scene-import-levels", 30)
    page.click("#scene-import-allocate")
    wait_status(page, "Split 1 has 30 levels")
    wait_src_change(page, "scene-import-depth-preview", before_depth)
    assert table_rows(page)[1][3] == "30"
    assert "allocated 30" in page.inner_text("#scene-import-usage")
    before_test = img_src(page, "scene-import-test-preview")
    page.click("#scene-import-auto-allocate")
    wait_status(page, "Shared the remaining levels")
    wait_src_change(page, "scene-import-test-preview", before_test)
    rows = table_rows(page)
    assert int(rows[0][3]) + int(rows[1][3]) == 256


def test_4_save_and_load_preset(page, app):
    saved = table_rows(page)
    page.fill("#scene-import-preset-name textarea, #scene-import-preset-name input", "two splits")
    page.click("#scene-import-save-preset")
    wait_status(page, "Saved preset")
    path = os.path.join(app["presets"], "two splits.json")
    with open(path) as fh:
        on_disk = json.load(fh)
    assert [s["levels"] for s in on_disk["splits"]] == [int(r[3]) for r in saved]
    # saving again under the same name is refused, the file is untouched
    page.click("#scene-import-save-preset")
    wait_status(page, "already exists")
    with open(path) as fh:
        assert json.load(fh) == on_disk
    # change the plan, then load the preset back
    set_number(page, "scene-import-split-no", 1)
    page.click("#scene-import-remove")
    wait_rows(page, 1)
    page.locator("#scene-import-preset-list input").click()
    page.locator("#scene-import-preset-list li", has_text="two splits").first.dispatch_event("mousedown")
    page.click("#scene-import-load-preset")
    wait_status(page, "Loaded preset")
    wait_rows(page, 2)
    assert [r[1:4] for r in table_rows(page)] == [r[1:4] for r in saved]


def test_5_mirror_example_step_by_step(page, app):
    """The seed's mirror example: five splits with 90/4/60/90/12 levels, regions from splits,
    a prompt per region, then Send to txt2img."""
    page.click("#scene-import-one-split")
    wait_rows(page, 1)
    pv = preview_of(app["scene"], "Cam0")
    lo, hi = pv.index.range
    cuts = []
    for k, q in enumerate((0.12, 0.3, 0.5, 0.75)):  # four clicks -> five splits
        x, y, _ = pixel_at_depth(pv, pv.index.depth_at_fraction(q))
        click_pixel(page, "scene-import-depth-preview", x, y)
        wait_rows(page, k + 2)
        cuts.append(clicked(page, pv, x, y))
    rows = table_rows(page)
    assert [float(r[2]) for r in rows[:-1]] == pytest.approx(sorted(cuts), rel=1e-5)
    page.click("#scene-import-zero")
    wait_status(page, "All levels are free")
    before = img_src(page, "scene-import-test-preview")
    for i, (n, name) in enumerate(zip(MIRROR_LEVELS, MIRROR_NAMES, strict=True)):
        edit_cell(page, "scene-import-splits", i, 3, n)
        edit_cell(page, "scene-import-splits", i, 6, name)
        edit_cell(page, "scene-import-splits", i, 8, i)
    edit_cell(page, "scene-import-splits", 0, 7, "red")
    edit_cell(page, "scene-import-splits", 3, 7, "lime")
    # apply with the keyboard shortcut (javascript/scene_import.js)
    page.locator("#scene-import-splits tbody tr").nth(0).locator("td").nth(1).click()
    page.keyboard.press("Control+Enter")
    wait_status(page, "Applied the table")
    wait_src_change(page, "scene-import-test-preview", before)
    rows = table_rows(page)
    assert [int(r[3]) for r in rows] == MIRROR_LEVELS
    assert [r[6] for r in rows] == MIRROR_NAMES
    assert [r[8] for r in rows] == ["0", "1", "2", "3", "4"]
    assert "allocated 256" in page.inner_text("#scene-import-usage")

    # regions from splits, a prompt per region
    page.locator("#scene-import-panels button", has_text="Regions").first.click()
    wait_status(page, "5 region(s) from splits")  # opening the panel builds them
    page.fill("#scene-import-base-prompt textarea", "photo of a woman at a mirror, soft light")
    page.click("#scene-import-build-regions")
    _wait(
        page,
        "() => document.querySelector('#scene-import-prompt textarea').value.startsWith('photo of a woman')",
        what="the prompt with the base prompt",
    )
    wait_rows(page, 5, "scene-import-region-table")
    assert img_src(page, "scene-import-region-overlay")
    for i, name in enumerate(MIRROR_NAMES):
        edit_cell(page, "scene-import-region-table", i, 4, name + ", detailed")
    page.click("#scene-import-assemble")
    wait_status(page, "Prompt assembled")
    prompt = page.input_value("#scene-import-prompt textarea")
    sections = [s.strip() for s in prompt.split("BREAK")]
    assert sections[0] == "photo of a woman at a mirror, soft light"
    assert sections[1:] == [n + ", detailed" for n in MIRROR_NAMES]
    assert "✔" in page.inner_text("#scene-import-prompt-check")
    # an edit that breaks the section count is flagged
    page.fill("#scene-import-prompt textarea", prompt.rsplit(" BREAK ", 1)[0])
    page.locator("#scene-import-prompt textarea").dispatch_event("input")
    page.wait_for_function("document.querySelector('#scene-import-prompt-check').innerText.includes('⚠')")
    page.fill("#scene-import-prompt textarea", prompt)
    page.locator("#scene-import-prompt textarea").dispatch_event("input")
    page.wait_for_function("document.querySelector('#scene-import-prompt-check').innerText.includes('✔')")

    # send to txt2img: the tab switches, the Script dropdown shows Scene Import, the params arrive
    page.locator("#scene-import-panels button", has_text="Generate").first.click()
    page.click("#scene-import-send-txt2img")
    page.wait_for_function(
        "() => { const i = document.querySelector('#txt2img_script_container #script_list input');"
        " return i && i.value === 'Scene Import'; }"
    )
    page.wait_for_function(
        "() => document.querySelector('#scene-import-status').dataset.sendResult === 'sent to txt2img'"
    )
    assert page.locator("#echo-txt2img").is_visible()
    page.click("#echo-txt2img")
    page.wait_for_function(
        "() => document.querySelector('#echo-out-txt2img textarea').value.includes('Scene Import')"
    )
    got = json.loads(page.input_value("#echo-out-txt2img textarea"))
    assert got["script"] == "Scene Import"
    params = json.loads(got["params"])
    assert params["prompt"] == prompt  # the prompt box is what the Script generates
    assert params["seed"] == -1 and got["seed"] == -1  # -1: the UI's seed, random
    assert [s["levels"] for s in params["splits"]["splits"]] == MIRROR_LEVELS
    assert [s.get("region") for s in params["splits"]["splits"]] == [0, 1, 2, 3, 4]
    assert params["regions"]["source"] == "auto"  # auto: the flagged splits make the regions (status above)
    assert params["base_prompt"] == "photo of a woman at a mirror, soft light"
    assert params["camera"] == "Cam0" and os.path.samefile(params["scene"], app["scene"])


def test_6_presets_apply_to_every_camera_and_screenshot(page, app):
    page.locator("#tabs button", has_text="Scene Import").first.click()
    page.locator("#scene-import-panels button", has_text="Depth").first.click()
    mirror = table_rows(page)
    page.click("#scene-import-apply-all")
    wait_status(page, "apply to all 3 cameras")
    page.locator("#scene-import-camera input").click()
    page.locator("#scene-import-camera li", has_text="Cam2").first.dispatch_event("mousedown")
    wait_status(page, "Camera Cam2")
    # the regions built on Cam0 follow the camera: Cam2's own regions are on the Regions panel
    wait_status(page, "region(s) from splits")
    import re

    n = int(re.search(r"(\d+) region\(s\) from splits", status(page)).group(1))
    assert n >= 2
    wait_rows(page, n, "scene-import-region-table")
    assert img_src(page, "scene-import-region-overlay")
    assert page.input_value("#scene-import-prompt textarea").startswith("photo of a woman at a mirror")
    rows = table_rows(page)
    assert [r[1:4] for r in rows] == [r[1:4] for r in mirror]  # same depths and levels, other pixel shares
    page.locator("#scene-import-camera input").click()
    page.locator("#scene-import-camera li", has_text="Cam0").first.dispatch_event("mousedown")
    wait_status(page, "Camera Cam0")
    page.evaluate("window.scrollTo(0, 0)")
    # the tab renders whole (the README's pictures are shot on the sample by tools/shoot_tab.py)
    shot = os.path.join(app["tmp"], "tab.png")
    page.locator("#tab_scene_import").screenshot(path=shot)
    assert os.path.getsize(shot) > 20000


def test_7_generate_all_cameras_with_one_seed(page, app):
    """Generate all cameras: one plan per camera, one seed for all, the edited region prompts,
    progress per camera and the results in the gallery."""
    rec = app["recorder"]
    rec.plans.clear()
    page.locator("#scene-import-panels button", has_text="Generate").first.click()
    page.click("#scene-import-generate")
    _wait(
        page,
        "() => (document.querySelector('#scene-import-generate-msg') || document.body).innerText.includes('camera 3/3')",
        what="the generation report",
    )
    wait_status(page, "Generated.")
    assert [p.camera for p in rec.plans] == ["Cam0", "Cam1", "Cam2"]
    seeds = {p.seed for p in rec.plans}
    assert len(seeds) == 1 and seeds.pop() >= 0  # -1 in the UI: one random seed drawn for the whole scene
    for plan in rec.plans:
        assert [u.kind for u in plan.units] == ["depth", "normal"]
        assert all(u.weight == 0.3 and u.guidance_end == 0.5 for u in plan.units)
        assert plan.regional is not None and plan.prompt.count("BREAK") == len(plan.sections)
        assert plan.prompt.startswith("photo of a woman at a mirror, soft light")
    cam0 = rec.plans[0]
    assert "a woman's face, detailed" in cam0.sections  # the description edited in the region table
    assert page.locator("#scene-import-gallery img").count() >= 3


def _send(page, tab: str = "txt2img") -> tuple[dict, dict]:
    """Send to txt2img and read back what the Script would receive: (echo, params)."""
    page.evaluate("document.querySelector('#scene-import-status').dataset.sendResult = ''")
    page.click(f"#scene-import-send-{tab}")
    page.wait_for_function(
        "t => document.querySelector('#scene-import-status').dataset.sendResult === 'sent to ' + t", arg=tab
    )
    page.evaluate(f"document.querySelector('#echo-out-{tab} textarea').value = ''")  # each send differs
    page.click(f"#echo-{tab}")
    page.wait_for_function(
        f"() => document.querySelector('#echo-out-{tab} textarea').value.includes('params')"
    )
    got = json.loads(page.input_value(f"#echo-out-{tab} textarea"))
    page.locator("#tabs button", has_text="Scene Import").first.click()
    return got, json.loads(got["params"])


def open_regions(page):
    """Open the Regions panel and wait until it has rebuilt the regions (opening it does)."""
    assert "region(s) from" not in status(page)  # so the wait below sees this rebuild
    page.locator("#scene-import-panels button", has_text="Regions").first.click()
    wait_status(page, "region(s) from")


def test_8_the_typed_prompt_is_what_is_generated(page, app):
    """Type into the prompt box: Generate all cameras and Send to txt2img carry exactly that text."""
    rec = app["recorder"]
    open_regions(page)
    typed = "(oil painting:1.2), Soft Light BREAK " + " BREAK ".join(
        f"my region {k}, [hand written]" for k in range(5)
    )
    box = page.locator("#scene-import-prompt textarea")
    box.fill("x")
    box.dispatch_event("input")
    page.wait_for_function("document.querySelector('#scene-import-prompt-check').innerText.includes('⚠')")
    box.fill(typed[:-20])  # (one input event per key: the last words are typed key by key)
    box.press_sequentially(typed[-20:])
    page.wait_for_function("document.querySelector('#scene-import-prompt-check').innerText.includes('✔')")
    rec.plans.clear()
    page.locator("#scene-import-panels button", has_text="Generate").first.click()
    page.click("#scene-import-generate")
    wait_status(page, "Generated.")
    assert [p.camera for p in rec.plans] == ["Cam0", "Cam1", "Cam2"]
    assert rec.plans[0].prompt == typed  # exactly what was typed, weights and case kept
    assert rec.plans[1].prompt != typed and rec.plans[1].prompt.startswith("photo of a woman")
    _, params = _send(page)
    assert params["prompt"] == typed
    # a typed prompt whose BREAK count does not fit the regions is refused with the counts named
    open_regions(page)
    box.fill("just one")
    box.press_sequentially(" section")
    page.wait_for_function("document.querySelector('#scene-import-prompt-check').innerText.includes('⚠')")
    assert "regions need 6" in page.inner_text("#scene-import-prompt-check")
    page.locator("#scene-import-panels button", has_text="Generate").first.click()
    rec.plans.clear()
    page.click("#scene-import-generate")
    wait_status(page, "does not fit the regions")
    assert rec.plans == []


def test_9_the_seed_sent_is_the_seed_shown_and_used(page, app):
    rec = app["recorder"]
    open_regions(page)  # the typed prompt is replaced by the assembled one
    page.locator("#scene-import-panels button", has_text="Generate").first.click()
    set_number(page, "scene-import-seed", 4242)
    got, params = _send(page)
    # the txt2img seed box shows the tab's seed, and the params take the UI's seed (-1)
    assert got["seed"] == 4242 and params["seed"] == -1
    rec.plans.clear()
    page.click("#scene-import-generate")
    wait_status(page, "Generated.")
    assert [p.seed for p in rec.plans] == [4242, 4242, 4242]
    assert "seed 4242" in page.inner_text("#scene-import-generate-msg")
    set_number(page, "scene-import-seed", -1)


def test_10_splits_source_without_flags_warns_once_and_clears(page, app):
    page.locator("#scene-import-panels button", has_text="Depth").first.click()
    page.click("#scene-import-one-split")  # no split carries a region flag now
    wait_status(page, "One split over the hit depth range")
    open_regions(page)  # auto: the object index now
    assert len(table_rows(page, "scene-import-region-table")) >= 2
    page.evaluate("document.querySelectorAll('.toast-close').forEach(b => b.click())")
    page.locator("#scene-import-region-source input").click()
    page.locator("#scene-import-region-source li", has_text="splits").first.dispatch_event("mousedown")
    wait_status(page, "no region flags")
    page.wait_for_timeout(1500)  # any second warning would have arrived by now
    assert toasts(page, "no region flags") == 1
    rows = [r for r in table_rows(page, "scene-import-region-table") if any(r)]
    assert rows == []  # the old regions are gone
    from lib_scene.session import REGION_COLUMNS

    assert headers(page, "scene-import-region-table") == REGION_COLUMNS
    assert page.input_value("#scene-import-prompt textarea") == ""


def test_11_chain_cameras_preview_and_consistency(page, app):
    """ "Chain cameras": the next camera's warp and mask preview, then a chained Generate all cameras
    (every camera after the first an inpaint with a mask, one seed) and the per-pair consistency."""
    rec = app["recorder"]
    rec.plans.clear()
    page.locator("#scene-import-panels button", has_text="Generate").first.click()
    page.click("#scene-import-chain-preview")
    wait_status(page, "Previewed.")
    assert "Next in the chain" in page.inner_text("#scene-import-chain-msg")
    assert page.locator("#scene-import-chain-warp img").count() == 1
    assert page.locator("#scene-import-chain-mask img").count() == 1
    page.locator("#scene-import-chain input[type=checkbox]").check()
    page.click("#scene-import-generate")
    _wait(
        page,
        "() => (document.querySelector('#scene-import-consistency') || document.body).innerText.includes('scene mean')",
        what="the consistency table",
    )
    wait_status(page, "Generated.")
    assert [p.mask is None for p in rec.plans] == [True, False, False]
    assert all(p.mode == "img2img" for p in rec.plans[1:]) and len({p.seed for p in rec.plans}) == 1
    assert "inpaint" in page.inner_text("#scene-import-generate-msg")
    assert page.locator("#scene-import-gallery img").count() >= 7  # 3 results, 2 warps, 2 masks
