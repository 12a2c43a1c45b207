"""CLI ``plan`` and ``run`` (lib_scene/cli_plan.py), with a small local HTTP stand-in for the webui.
The real core plans real EXRs (tests/scenes.py)."""

from __future__ import annotations

import base64
import io
import json

import glue_env
import numpy as np
import pytest
from fake_webui import MODELS, LoopbackWebui
from PIL import Image

from lib_scene.canvas import load_cameras
from lib_scene.cli import main
from lib_scene.params import PlanParams
from lib_scene.plan import build_plan
from lib_scene.splits import SplitPlan, save_preset
from lib_scene.wire import to_payload

scene = glue_env.scene  # Cam0 and Cam1 with sidecars in tmp_path/scene (a fixture)


class FakeWebui(LoopbackWebui):
    """The CLI's webui (tests/fake_webui.py), answering two flat images per request: shade 1, or
    10 * frame + variation for a Scene Import Script task; ``steps: 150`` is refused with a 422."""

    def __init__(self, forge=False, units=3):
        self.posts = []
        super().__init__(forge, units)

    def answer(self, path, body):
        self.posts.append((path, body))
        if body.get("steps") == 150:
            return 422, {"detail": "too big"}
        if "script_name" in body:  # the Scene Import Script: one task (camera, frame, variation)
            task = body["script_args"][0]
            shade = 10 * int(task.get("frames") or 0) + int((task.get("variations") or {}).get("index", 0))
            body = {**body, "width": 64, "height": 48, "seed": task["seed"], "prompt": task["camera"]}
        else:
            shade = 1
        buf = io.BytesIO()
        Image.new("RGB", (body["width"], body["height"]), (shade, 2, 3)).save(buf, "PNG")
        img = base64.b64encode(buf.getvalue()).decode()
        info = {"seed": body["seed"], "infotexts": [f"{body['prompt']}\nSeed: {body['seed']}"]}
        return 200, {"images": [img, img], "info": json.dumps(info)}


@pytest.fixture
def webui():
    w = FakeWebui()
    yield w
    w.close()


def test_plan_writes_the_exact_payload_and_its_maps(scene, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["plan", str(scene), "--out", str(out), "--base-prompt", "a room", "--mode", "img2img",
               "--params", '{"long_side": 64, "seed": 11}'])  # fmt: skip
    assert rc == 0
    names = sorted(p.name for p in out.iterdir())
    for cam in ("Cam0", "Cam1"):
        for suffix in ("payload.json", "depth.png", "normal.png", "regions.png", "regions.json", "prompt.txt",
                       "init.png", "plan.txt", "test.png"):  # fmt: skip
            assert f"{cam}.{suffix}" in names
    cs0 = load_cameras([str(scene / "Cam0.exr")])[0]
    assert Image.open(out / "Cam0.test.png").size == (cs0.width, cs0.height)  # the splits, canvas size
    body = json.loads((out / "Cam0.payload.json").read_text())
    cs = load_cameras([str(scene / "Cam0.exr")])[0]
    params = PlanParams.from_dict({"long_side": 64, "seed": 11, "base_prompt": "a room", "mode": "img2img"})
    assert body == to_payload(build_plan(cs, params))  # the exact body, default model names
    assert body["alwayson_scripts"]["ControlNet"]["args"][0]["model"] == "control_v11f1p_sd15_depth"
    depth = np.asarray(Image.open(out / "Cam0.depth.png"))
    sent = np.asarray(
        Image.open(io.BytesIO(base64.b64decode(body["alwayson_scripts"]["ControlNet"]["args"][0]["image"])))
    )
    assert np.array_equal(depth, sent) and depth.shape == (48, 64, 3)
    assert (out / "Cam0.prompt.txt").read_text().strip() == body["prompt"]
    table = json.loads((out / "Cam0.regions.json").read_text())
    assert [r["description"] for r in table] == ["a wooden box", "a red ball", "a green wall"]
    text = capsys.readouterr().out
    assert "camera Cam0: POST /sdapi/v1/img2img  64x48  seed 11" in text and "wrote " in text


def test_plan_with_webui_models(scene, tmp_path, webui, capsys):
    out = tmp_path / "out"
    assert main(["plan", str(scene / "Cam0.exr"), "--out", str(out), "--webui-models", webui.url]) == 0
    body = json.loads((out / "Cam0.payload.json").read_text())
    units = body["alwayson_scripts"]["ControlNet"]["args"]
    assert [u.get("model") for u in units] == [MODELS[1], MODELS[2], None]
    assert "3 ControlNet models" in capsys.readouterr().out


def test_plan_for_forge_detected_by_the_missing_version_route(scene, tmp_path):
    w = FakeWebui(forge=True, units=2)
    try:
        assert (
            main(["plan", str(scene / "Cam0.exr"), "--out", str(tmp_path / "o"), "--webui-models", w.url])
            == 0
        )
    finally:
        w.close()
    units = json.loads((tmp_path / "o" / "Cam0.payload.json").read_text())["alwayson_scripts"]["ControlNet"][
        "args"
    ]
    assert [u["module"] for u in units] == ["None", "None"]


def test_plan_errors_are_clear(scene, tmp_path, capsys):
    assert (
        main(["plan", str(scene), "--out", str(tmp_path / "o"), "--webui-models", "http://127.0.0.1:9"]) == 2
    )
    assert "cannot reach the webui" in capsys.readouterr().err
    assert main(["plan", str(scene), "--out", str(tmp_path / "o"), "--params", "{bad"]) == 2
    assert "--params is not valid JSON" in capsys.readouterr().err
    assert (
        main(["plan", str(scene), "--out", str(tmp_path / "o"), "--params", '{"depth": {"wieght": 1}}']) == 2
    )
    assert "did you mean 'depth.weight'" in capsys.readouterr().err
    assert (
        main(["plan", str(scene), "--out", str(scene)]) == 0
    )  # outputs beside inputs are fine, never over them


def test_run_posts_every_camera_with_one_seed(scene, tmp_path, webui, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "run",
            str(scene),
            "--webui",
            webui.url,
            "--out",
            str(out),
            "--params",
            '{"long_side": 64, "steps": 2}',
        ]
    )
    assert rc == 0
    assert [p for p, _ in webui.posts] == ["/sdapi/v1/txt2img"] * 2
    seeds = {b["seed"] for _, b in webui.posts}
    assert len(seeds) == 1 and -1 not in seeds
    assert all(
        b["steps"] == 2 and b["alwayson_scripts"]["ControlNet"]["args"][0]["model"] == MODELS[1]
        for _, b in webui.posts
    )
    text = capsys.readouterr().out
    assert "camera 1/2: Cam0" in text and "camera 2/2: Cam1" in text
    for cam in ("Cam0", "Cam1"):
        assert Image.open(out / f"{cam}.png").size == (64, 48)
        assert (out / f"{cam}-1.png").exists()
        assert json.loads((out / f"{cam}.info.json").read_text())["seed"] in seeds
        assert "Seed:" in (out / f"{cam}.infotext.txt").read_text()


def test_run_reports_webui_errors(scene, tmp_path, webui, capsys):
    rc = main(["run", str(scene / "Cam0.exr"), "--webui", webui.url, "--out", str(tmp_path / "o"),
               "--params", '{"long_side": 64, "steps": 150}'])  # fmt: skip
    assert rc == 2
    assert "HTTP 422: too big" in capsys.readouterr().err


def test_relative_paths_in_params_are_relative_to_the_scene_and_flags_to_the_cwd(
    scene, tmp_path, monkeypatch
):
    preset = SplitPlan.from_dict(
        {"version": 1, "curve": "linear", "splits": [{"start": 2.0, "end": 9.0, "levels": 256}]}
    )
    save_preset(preset, str(scene / "mine.json"))
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = tmp_path / "o"
    # inside --params: relative to the scene folder (not the working directory)
    assert (
        main(["plan", str(scene), "--out", str(out), "--params", '{"splits": "mine.json", "long_side": 64}'])
        == 0
    )
    body = json.loads((out / "Cam0.payload.json").read_text())
    cs = load_cameras([str(scene / "Cam0.exr")])[0]
    want = to_payload(build_plan(cs, PlanParams.from_dict({"long_side": 64, "seed": body["seed"]}), preset))
    assert body == want
    # the --splits flag is a shell path: relative to the working directory
    (elsewhere / "flag.json").write_text((scene / "mine.json").read_text())
    assert (
        main(["plan", str(scene), "--out", str(tmp_path / "o2"), "--splits", "flag.json", "--seed", "5"]) == 0
    )
    assert main(["plan", str(scene), "--out", str(tmp_path / "o3"), "--splits", "mine.json"]) == 2


def test_run_travel_and_variations_go_through_the_script_one_task_per_image(scene, tmp_path, webui, capsys):
    out = tmp_path / "anim"
    travel = {"keyframes": [{"frame": 0, "base_prompt": "dusk"}, {"frame": 2, "base_prompt": "night"}]}
    params = json.dumps({"long_side": 64, "seed": 9, "travel": travel, "variations": {"count": 2}})
    rc = main(
        ["run", str(scene), "--camera", "Cam1", "--webui", webui.url, "--out", str(out), "--params", params]
    )
    assert rc == 0
    tasks = [b["script_args"][0] for _, b in webui.posts]
    assert all(b["script_name"] == "scene import" for _, b in webui.posts)
    assert [(t["frames"], t["variations"]["index"]) for t in tasks] == [
        (str(f), k) for f in range(3) for k in range(2)
    ]
    assert {t["seed"] for t in tasks} == {9} and {t["camera"] for t in tasks} == {"Cam1"}
    assert [f["name"] for f in tasks[0]["files"]] == ["Cam1.exr", "Cam1.json"]
    text = capsys.readouterr().out
    assert "frame 1/6: Cam1.0000.v00" in text and "frame 6/6: Cam1.0002.v01" in text
    names = {p.name for p in out.iterdir()}
    for f in range(3):
        for k in range(2):
            assert {f"Cam1.{f:04d}.v{k:02d}.png", f"Cam1.{f:04d}.v{k:02d}.infotext.txt"} <= names
    anims = sorted(n for n in names if n.endswith((".webp", ".gif")))
    assert [a.rsplit(".", 1)[0] for a in anims] == ["Cam1.v00", "Cam1.v01"]
    with Image.open(out / anims[1]) as im:
        assert im.n_frames == 3
        shades = []
        for i in range(3):
            im.seek(i)
            shades.append(im.convert("RGB").getpixel((0, 0))[0])
    assert shades == [1, 11, 21]  # frames in order, variation 1's
