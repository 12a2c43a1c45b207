"""Opt-in: a chained run of the sample room against a REAL webui (A1111 1.10 + ControlNet + Regional
Prompter + this extension; see test_webui.py). Skipped without ``SCENE_IMPORT_WEBUI_URL``.

* CLI ``run`` with ``chain`` posts txt2img for the first camera and an img2img **inpaint** with a mask
  for every later one, one seed, ControlNet and Regional Prompter active in each (their infotext);
* the dropdown Script (txt2img, a server scene folder) does the same in-process;
* ``consistency`` scores the chained images far higher than an unchained run of the same scene and
  seed (random-weight models are enough: what is carried over stays carried over).
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest
import test_webui as tw

from lib_scene.canvas import discover, load_camera
from lib_scene.cli import main
from lib_scene.consistency import read_rgb, scene_consistency
from lib_scene.reproject import View

URL, check_rp, check_units, entry, post = tw.URL, tw.check_rp, tw.check_units, tw.entry, tw.post
models, version = tw.models, tw.version  # fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOM = os.path.join(ROOT, "samples", "room")
BASE = {"long_side": 64, "steps": 1, "seed": 4242, "base_prompt": "a cosy room"}
#: at 64 px the default mask blur (4 px, for ~512 px pictures) would blend most carried pixels away
CHAIN = {"enabled": True, "feather": 0}
#: keep the runs' files here (the README picture is made from them); default a temporary folder
KEEP = os.environ.get("SCENE_IMPORT_CHAIN_OUT")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running A1111 with ControlNet, RP and Scene Import"
    ),
]


def _run(out, params):
    rc = main(["run", ROOM, "--webui", URL, "--out", str(out), "--params", json.dumps(params)])
    assert rc == 0
    return {
        n: json.loads((out / f"{n}.info.json").read_text())["infotexts"][0] for n in ("Cam0", "Cam1", "Cam2")
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory, version):
    base = pathlib.Path(KEEP) if KEEP else tmp_path_factory.mktemp("chain")
    chained = _run(base / "chained", {**BASE, "chain": CHAIN})
    alone = _run(base / "alone", BASE)
    return base, chained, alone


def test_cli_chain_inpaints_every_camera_after_the_first(runs, models, version):
    base, texts, _ = runs
    first = texts["Cam0"]
    assert entry(first, "Denoising strength") is None and entry(first, "Mask blur") is None
    for cam in ("Cam2", "Cam1"):  # the nearest-pose order: Cam0, Cam2, Cam1
        text = texts[cam]
        assert entry(text, "Denoising strength") == "0.75", text
        assert "Mask blur" not in text  # feather 0
        # A1111 used the mask: outside it the picture is the init image (what was carried), exactly
        img = read_rgb(base / "chained" / f"{cam}.png")
        carried = read_rgb(base / "chained" / f"{cam}.warp.png")
        keep = read_rgb(base / "chained" / f"{cam}.warp.mask.png")[..., 0] == 0
        assert keep.mean() > 0.2 and (img[keep] == carried[keep]).all(axis=-1).mean() > 0.99
        assert (img[~keep] != carried[~keep]).any(axis=-1).mean() > 0.5  # and painted inside it
        assert (base / "chained" / f"{cam}.warp.png").exists() and (
            base / "chained" / f"{cam}.warp.mask.png"
        ).exists()
    for text in texts.values():
        check_units(text, models, version)
        check_rp(text, version)
    assert len({entry(t, "Seed") for t in texts.values()}) == 1 and entry(first, "Seed") == "4242"
    # the chain step reaches the images through the companion infotext Script (a webui with Scene Import)
    assert (
        entry(texts["Cam2"], "Scene Import chain") == "2/3"
        and entry(texts["Cam1"], "Scene Import chain") == "3/3"
    )
    assert entry(first, "Scene Import camera") == "Cam0" and entry(first, "Scene Import chain") is None


def test_chained_images_agree_far_better(runs):
    base, _, _ = runs
    cams = {s.camera: load_camera(s) for s in discover([ROOM])}
    views = {n: View.of(cs) for n, cs in cams.items()}
    scores = {}
    for name in ("chained", "alone"):
        images = {n: read_rgb(base / name / f"{n}.png") for n in cams}
        scores[name] = scene_consistency(views, images)
        print(f"\n{name}:\n{scores[name].table()}")
    chained, alone = scores["chained"], scores["alone"]
    if KEEP:
        (base / "scores.json").write_text(json.dumps({k: v.as_dict() for k, v in scores.items()}, indent=1))
    assert chained.psnr > alone.psnr + 6, (chained.psnr, alone.psnr)
    assert chained.mae < alone.mae / 2, (chained.mae, alone.mae)


def test_dropdown_script_chains_in_process(version, models):
    folder = os.environ.get("SCENE_IMPORT_WEBUI_SCENE")
    if not folder:
        pytest.skip(
            "set SCENE_IMPORT_WEBUI_SCENE to a scene folder inside the webui's --scene-import-allowed-dir"
        )
    body = {
        "prompt": "a room",
        "steps": 1,
        "script_name": "scene import",
        "script_args": [{"scene": folder, "long_side": 64, "seed": 77, "chain": {"enabled": True}}],
    }
    info = json.loads(post("/sdapi/v1/txt2img", body)["info"])
    texts = [t for t in info["infotexts"] if "Scene Import camera" in t]
    assert [entry(t, "Scene Import camera") for t in texts] == ["Cam0", "Cam2", "Cam1"]
    assert entry(texts[0], "Mask blur") is None
    for t in texts[1:]:
        assert entry(t, "Mask blur") == "4" and entry(t, "Denoising strength") == "0.75", t  # masked img2img
        assert entry(t, "Scene Import chain") in ("2/3", "3/3")
    for t in texts:
        check_units(t, models, version)
        check_rp(t, version)
    assert {entry(t, "Seed") for t in texts} == {"77"}
