"""Opt-in: prompt travel and variations against a REAL A1111 1.10 with ControlNet and Regional Prompter.

Same seed and settings throughout (the CPU webui is deterministic, see shared/host-contracts.md):

* a 3-frame travel A -> B: frame 0 is pixel-identical to a plain generation of A, frame 2 to a plain
  generation of B, frame 1 differs from both (the conditioning was interpolated inside the sampler);
* 3 variations: variation 0 is pixel-identical to the plain image, the three are distinct;
* ControlNet and RP are active in every frame: two detected maps per image, their infotext entries,
  and no Regional Prompter error in the log (``SCENE_IMPORT_WEBUI_LOG``, default /work/webui/webui.log).
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import test_webui as w  # the same module pytest loaded (rootdir-relative "prepend" imports)
from PIL import Image

URL, check_rp, check_units, entry, post = w.URL, w.check_rp, w.check_units, w.entry, w.post
version, models = w.version, w.models  # its module-scoped fixtures

pytestmark = [pytest.mark.integration, pytest.mark.skipif(not URL, reason="set SCENE_IMPORT_WEBUI_URL")]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG = os.environ.get("SCENE_IMPORT_WEBUI_LOG", "/work/webui/webui.log")
A, B = "a cosy wooden room at dusk", "a cold steel room at night"
SMALL = {"long_side": 64, "seed": 1234}


@pytest.fixture(scope="module")
def files():
    out = []
    for n in ("Cam0.exr", "Cam0.json"):
        with open(os.path.join(ROOT, "samples", "room", n), "rb") as fh:
            out.append({"name": n, "data": base64.b64encode(fh.read()).decode()})
    return out


@pytest.fixture(scope="module", autouse=True)
def log_start():  # autouse: the log's size before this module's first generation
    return os.path.getsize(LOG) if os.path.isfile(LOG) else None


def generate(files, **params):
    """(generated images as arrays, their infotexts, images per generation) of one Script request."""
    body = {
        "prompt": "",
        "steps": 2,
        "script_name": "scene import",
        "script_args": [{"files": files, **SMALL, **params}],
    }
    answer = post("/sdapi/v1/txt2img", body)
    texts = json.loads(answer["info"])["infotexts"]
    per = len(answer["images"]) // len(texts)
    assert per * len(texts) == len(answer["images"]), (len(answer["images"]), len(texts))
    imgs = [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB"), dtype=np.int16)
        for b in answer["images"][::per]
    ]
    return imgs, texts, per


@pytest.fixture(scope="module")
def plain(version, files):
    a, ta, _ = generate(files, base_prompt=A)
    b, tb, _ = generate(files, base_prompt=B)
    assert np.abs(a[0] - b[0]).mean() > 0.5, "A and B must differ for this test to mean anything"
    return a[0], b[0]


def _check_every_image(texts, per, models, version):
    assert per == 3, f"{per - 1} ControlNet maps per image, expected depth and normal"
    for t in texts:
        check_units(t, models, version)
        check_rp(t, version)


def test_travel_keyframes_equal_plain_generations_and_the_middle_moves(plain, files, models, version):
    travel = {
        "keyframes": [{"frame": 0, "base_prompt": A}, {"frame": 2, "base_prompt": B}],
        "interpolation": "slerp",
    }
    imgs, texts, per = generate(files, base_prompt=A, frames=3, travel=travel)
    assert len(imgs) == 3
    assert np.array_equal(imgs[0], plain[0]), "frame 0 must be a plain generation of A"
    assert np.array_equal(imgs[2], plain[1]), "frame 2 must be a plain generation of B"
    for other in plain:
        assert np.abs(imgs[1] - other).mean() > 0.1, "frame 1 must differ from both keyframes"
    assert [entry(t, "Scene Import frame") for t in texts] == ["0", "1", "2"]
    assert "0.5 from keyframe 0 (frame 0) to keyframe 1 (frame 2)" in texts[1]
    assert len({entry(t, "Seed") for t in texts}) == 1
    _check_every_image(texts, per, models, version)


def test_linear_travel_differs_from_slerp_in_between(plain, files):
    travel = {
        "keyframes": [{"frame": 0, "base_prompt": A}, {"frame": 2, "base_prompt": B}],
        "interpolation": "linear",
    }
    imgs, texts, _ = generate(files, base_prompt=A, frames="1", travel=travel)
    assert len(imgs) == 1 and entry(texts[0], "Scene Import frame") == "1"
    for other in plain:
        assert np.abs(imgs[0] - other).mean() > 0.1


def test_variations_zero_is_plain_and_all_distinct(plain, files, models, version):
    imgs, texts, per = generate(files, base_prompt=A, variations={"count": 3, "sigma": 0.02})
    assert len(imgs) == 3
    assert np.array_equal(imgs[0], plain[0]), "variation 0 must be the plain image"
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.array_equal(imgs[i], imgs[j]), (i, j)
    assert 'Scene Import variation: "1 of 3, sigma 0.02"' in texts[1]  # A1111 quotes values with commas
    _check_every_image(texts, per, models, version)


def test_cli_run_travel_writes_frames_and_an_animation(version, tmp_path, plain):
    travel = {"keyframes": [{"frame": 0, "base_prompt": A}, {"frame": 2, "base_prompt": B}]}
    params = json.dumps({**SMALL, "steps": 2, "travel": travel})
    cmd = [
        sys.executable,
        "-m",
        "lib_scene",
        "run",
        os.path.join(ROOT, "samples", "room"),
        "--camera",
        "Cam0",
    ]
    cmd += ["--webui", URL, "--out", str(tmp_path), "--params", params, "--frames", "0-2"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "frame 1/3: Cam0.0000" in done.stdout and "frame 3/3: Cam0.0002" in done.stdout
    names = set(os.listdir(tmp_path))
    for k in range(3):
        assert {f"Cam0.{k:04d}.png", f"Cam0.{k:04d}.infotext.txt"} <= names
    anim = [n for n in names if n in ("Cam0.webp", "Cam0.gif")]
    assert anim, names
    first = np.asarray(Image.open(tmp_path / "Cam0.0000.png").convert("RGB"), dtype=np.int16)
    assert np.array_equal(first, plain[0])
    with Image.open(tmp_path / anim[0]) as im:
        assert getattr(im, "n_frames", 1) == 3


def test_no_regional_prompter_error_in_the_log(log_start):
    if log_start is None:
        pytest.skip(f"no webui log at {LOG}")
    with open(LOG, encoding="utf-8", errors="replace") as fh:
        fh.seek(log_start)
        text = fh.read()
    bad = [
        line
        for line in text.splitlines()
        if "Error" in line and ("regional" in line.lower() or "rp.py" in line)
    ]
    assert not bad, bad
    assert "Error running process" not in text and "cfg_denoiser_callback" not in text
