"""Chained generation (lib_scene/chain.py): the order, each step's init image and mask, the wire
format of an inpaint, and CLI ``run`` with ``chain`` against a small local HTTP webui. Real canvases:
the bundled samples/room (three posed Blender cameras)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil

import numpy as np
import pytest
from fake_webui import FakeWebui, decode
from PIL import Image

from lib_scene.camera import PoseError, camera_of, nearest_pose_order
from lib_scene.canvas import discover, load_camera
from lib_scene.chain import ChainScene, blend_plan, chain_order, chain_step, run_chain
from lib_scene.cli import main
from lib_scene.cli_plan import _params_data
from lib_scene.consistency import scene_consistency
from lib_scene.errors import InputError, NotFoundError, ParamsError
from lib_scene.imaging import resize_nearest, resize_smooth, to_rgb8, tonemap_srgb
from lib_scene.params import PlanParams
from lib_scene.plan import GenerationPlan
from lib_scene.reproject import View, output_size, warp
from lib_scene.request import HostFacts, Scene, chain_scene, resolve, resolve_planned
from lib_scene.wire import to_payload

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOM = os.path.join(ROOT, "samples", "room")
DAZ = os.path.join(ROOT, "samples", "room_daz")
CHAIN = {"chain": {"enabled": True}, "long_side": 128, "seed": 7}


@pytest.fixture(scope="module")
def room():
    return {s.camera: load_camera(s) for s in discover([ROOM])}


@pytest.fixture(scope="module")
def planned():
    return resolve_planned(Scene(ROOM), PlanParams.from_dict(CHAIN), HostFacts())


def fake_generate(plan: GenerationPlan):
    """A host that keeps what the mask keeps and paints the rest with seed noise (like A1111's
    inpaint overlay); txt2img is seed noise. Deterministic per camera."""
    rng = np.random.default_rng([plan.seed, len(plan.camera), ord(plan.camera[-1])])
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)  # smooth: like a picture, not like noise
    img = to_rgb8(resize_smooth(small, plan.width, plan.height)).copy()
    if plan.init_image is not None:
        keep = np.ones((plan.height, plan.width), bool) if plan.mask is None else plan.mask == 0
        img[keep] = plan.init_image[keep]
    return img, plan


# --------------------------------------------------------------------------- params and order


def test_chain_params_validated_and_defaults():
    p = PlanParams()
    assert (p.chain.enabled, p.chain.order, p.chain.denoise, p.chain.feather, p.chain.blend) == (
        False, None, 0.75, 4, 0.0,
    )  # fmt: skip
    q = PlanParams.from_dict({"chain": {"enabled": True, "order": "Cam1, Cam0"}})
    assert q.chain.order == ("Cam1", "Cam0") and PlanParams.from_dict(q.to_dict()) == q
    assert PlanParams.from_dict({"chain.order": ["Cam2", "Cam0"]}).chain.order == ("Cam2", "Cam0")
    with pytest.raises(ParamsError) as err:
        PlanParams.from_dict({"chain": {"order": ["a", "a"], "denoise": 1.5, "feather": 2.5, "bogus": 1}})
    text = str(err.value)
    for needle in ("chain.order names 'a' more than once", "chain.denoise must be in [0, 1]",
                   "chain.feather must be a whole number", "unknown parameter 'chain.bogus'"):  # fmt: skip
        assert needle in text


def test_default_order_is_nearest_pose_from_the_first_camera(room, planned):
    cams = [room[n] for n in sorted(room)]
    want = [cams[i].camera for i in nearest_pose_order([camera_of(c) for c in cams], 0)]
    assert [p.plan.camera for p in planned] == want == ["Cam0", "Cam2", "Cam1"]
    assert [p.plan.chain["step"] for p in planned] == [0, 1, 2]
    assert all(p.plan.chain["order"] == want for p in planned)
    assert len({p.plan.seed for p in planned}) == 1


def test_explicit_order_and_its_errors(room):
    cams = [room[n] for n in sorted(room)]
    assert chain_order(cams, ["Cam1", "Cam0", "Cam2"]) == [1, 0, 2]
    with pytest.raises(InputError, match="leaves out 'Cam2'"):
        chain_order(cams, ["Cam1", "Cam0"])
    with pytest.raises(NotFoundError, match="'Cam9'"):
        chain_order(cams, ["Cam9", "Cam0", "Cam1", "Cam2"])
    plans = resolve(
        Scene(ROOM), PlanParams.from_dict({**CHAIN, "chain": {"enabled": True, "order": "Cam1,Cam2,Cam0"}}),
        HostFacts(),
    )  # fmt: skip
    assert [p.camera for p in plans] == ["Cam1", "Cam2", "Cam0"]


def test_chain_needs_poses():
    with pytest.raises(PoseError, match="Daz canvas set"):
        resolve(Scene(DAZ), PlanParams.from_dict(CHAIN), HostFacts())


def test_unchained_plans_carry_no_chain(planned):
    plans = resolve(Scene(ROOM), PlanParams.from_dict({"long_side": 128, "seed": 7}), HostFacts())
    assert [p.camera for p in plans] == ["Cam0", "Cam1", "Cam2"] and all(p.chain == {} for p in plans)


# --------------------------------------------------------------------------- one step


def test_first_step_is_the_plan_as_it_is(planned):
    scene = chain_scene(planned)
    step = chain_step(planned[0].plan, scene, [])
    assert step.plan is planned[0].plan and step.warp is None and step.mask is None


def test_step_init_is_the_warp_with_holes_from_the_beauty(room, planned):
    scene = chain_scene(planned)
    first, second = planned[0].plan, planned[1].plan  # Cam0, then Cam2
    gen0 = to_rgb8(resize_smooth(tonemap_srgb(room["Cam0"].beauty), first.width, first.height))
    step = chain_step(second, scene, [("Cam0", gen0)])
    p = step.plan
    w, h = p.width, p.height
    assert output_size(scene.views["Cam2"].camera, max(w, h)) == (w, h)  # room: exact aspect at 128
    up = to_rgb8(resize_smooth(gen0, 512, 384))  # warped from on the canvas grid (fit_source)
    res = warp([(View.of(room["Cam0"]), up)], View.of(room["Cam2"]), (w, h))
    small = warp([(View.of(room["Cam0"]), gen0)], View.of(room["Cam2"]), (w, h))
    assert res.carried_fraction > small.carried_fraction + 0.05  # a coarse grid refuses steep planes
    hole = res.mask > 0
    assert 0.2 < hole.mean() < 0.8
    beauty2 = to_rgb8(resize_smooth(tonemap_srgb(room["Cam2"].beauty), w, h))
    assert np.array_equal(p.init_image[~hole], res.image[~hole])  # carried: exactly the warp
    assert np.array_equal(p.init_image[hole], beauty2[hole])  # holes: the tone-mapped beauty
    assert np.array_equal(step.warp[~hole], res.image[~hole]) and not step.warp[hole].any()
    assert np.array_equal(p.mask, res.mask) and p.mask is step.mask  # exactly the disocclusion mask
    assert (p.mode, p.denoising_strength, p.mask_blur, p.inpainting_fill, p.inpaint_full_res) == (
        "img2img", 0.75, 4, 1, False,
    )  # fmt: skip
    # the camera's own ControlNet units, Regional Prompter, prompt and the one seed are unchanged
    assert (p.prompt, p.seed, p.regional, p.units) == (
        second.prompt,
        second.seed,
        second.regional,
        second.units,
    )
    assert p.chain["after"] == ["Cam0"] and p.chain["carried"] == pytest.approx(1 - hole.mean(), abs=1e-6)
    assert p.infotext["Scene Import chain"] == "2/3"


def test_step_options_and_beauty_less_fill(room, planned):
    scene = chain_scene(planned)
    plan = planned[1].plan
    gen0 = np.full((planned[0].plan.height, planned[0].plan.width, 3), 90, np.uint8)
    cp = PlanParams.from_dict({"chain": {"denoise": 0.6, "feather": 0}}).chain
    step = chain_step(plan, ChainScene(scene.views, {}), [("Cam0", gen0)], cp)
    p = step.plan
    assert p.denoising_strength == 0.6 and p.mask_blur == 0
    hole = p.mask > 0  # without a beauty the holes take the carried pixels' mean
    assert (p.init_image == 90).all() and (step.warp[~hole] == 90).all() and hole.any()


def test_generated_images_of_a_snapped_size_are_fitted(room):
    """Generation sizes snap to 8 px; a generated image a few px off the camera's aspect still warps."""
    pl = resolve_planned(Scene(ROOM), PlanParams.from_dict({**CHAIN, "long_side": 100}), HostFacts())
    plans = [p.plan for p in pl]
    out = run_chain(plans, chain_scene(pl), fake_generate)
    assert all(r.image.shape == (p.height, p.width, 3) for r, p in zip(out, plans, strict=True))
    assert out[1].step.plan.mask.shape == (plans[1].height, plans[1].width)


# --------------------------------------------------------------------------- the whole chain


def test_chain_carries_content_and_scores_far_higher(room, planned):
    plans = [p.plan for p in planned]
    out = run_chain(plans, chain_scene(planned), fake_generate)
    assert [r.step.plan.camera for r in out] == ["Cam0", "Cam2", "Cam1"]
    assert [r.step.plan.mode for r in out] == ["txt2img", "img2img", "img2img"]
    assert out[2].step.plan.chain["after"] == ["Cam2", "Cam0"]  # both earlier cameras, nearest first
    assert len({r.step.plan.seed for r in out}) == 1
    views = {n: View.of(cs) for n, cs in room.items()}
    chained = scene_consistency(views, {r.step.plan.camera: r.image for r in out})
    alone = scene_consistency(views, {p.camera: fake_generate(p)[0] for p in resolve(
        Scene(ROOM), PlanParams.from_dict({"long_side": 128, "seed": 7}), HostFacts())})  # fmt: skip
    assert chained.psnr > alone.psnr + 12 and chained.mae < alone.mae / 5
    # the third camera's carried pixels are exactly what the first two painted, warped
    third = out[2]
    keep = third.step.plan.mask == 0
    assert np.array_equal(third.image[keep], third.step.plan.init_image[keep])


def test_blend_pass(planned):
    plans = [p.plan for p in planned]
    assert blend_plan(plans[0], np.zeros((plans[0].height, plans[0].width, 3), np.uint8)) is None
    cp = {"chain": {"enabled": True, "blend": 0.2}, "long_side": 128, "seed": 7}
    pl = resolve_planned(Scene(ROOM), PlanParams.from_dict(cp), HostFacts())
    sent: list[GenerationPlan] = []

    def gen(plan):
        sent.append(plan)
        return fake_generate(plan)

    out = run_chain([p.plan for p in pl], chain_scene(pl), gen)
    assert [(p.camera, p.mask is not None) for p in sent] == [
        ("Cam0", False), ("Cam2", True), ("Cam2", False), ("Cam1", True), ("Cam1", False),
    ]  # fmt: skip
    second = sent[2]
    assert second.mode == "img2img" and second.denoising_strength == 0.2 and second.mask is None
    assert second.infotext["Scene Import chain blend"] == "0.2"
    assert len(out[1].results) == 2 and len(out[0].results) == 1


# --------------------------------------------------------------------------- wire and plan format


def test_inpaint_payload_and_plan_round_trip(room, planned):
    scene = chain_scene(planned)
    gen0 = fake_generate(planned[0].plan)[0]
    plan = chain_step(planned[1].plan, scene, [("Cam0", gen0)]).plan
    body = to_payload(plan)
    assert body["init_images"] and body["denoising_strength"] == 0.75
    assert (body["mask_blur"], body["inpainting_fill"], body["inpaint_full_res"]) == (4, 1, False)
    assert body["inpainting_mask_invert"] == 0
    assert np.array_equal(decode(body["mask"]), plan.mask)
    assert "ControlNet" in body["alwayson_scripts"] and "Regional Prompter" in body["alwayson_scripts"]
    back = GenerationPlan.from_json(plan.to_json())
    assert back == plan and np.array_equal(back.mask, plan.mask) and back.chain == plan.chain
    assert "mask" not in to_payload(planned[0].plan)
    old = planned[0].plan.to_dict()
    for key in ("mask", "mask_blur", "inpainting_fill", "inpaint_full_res", "chain"):
        old.pop(key)  # a plan written before chains reads as before
    assert GenerationPlan.from_dict(old) == dataclasses.replace(planned[0].plan, chain={})


# --------------------------------------------------------------------------- CLI run


@pytest.fixture
def webui():
    w = FakeWebui()
    yield w
    w.close()


def test_cli_run_chained(tmp_path, webui, capsys):
    scene = tmp_path / "room"
    shutil.copytree(ROOM, scene)
    out = tmp_path / "out"
    rc = main(["run", str(scene), "--webui", webui.url, "--out", str(out), "--params", json.dumps(CHAIN)])
    assert rc == 0, capsys.readouterr().err
    assert [p for p, _ in webui.posts] == ["/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/img2img"]
    bodies = [b for _, b in webui.posts]
    assert len({b["seed"] for b in bodies}) == 1 and bodies[0]["seed"] == 7
    assert "mask" not in bodies[0]
    for b in bodies[1:]:
        assert b["denoising_strength"] == 0.75 and b["mask_blur"] == 4 and b["inpainting_fill"] == 1
        assert b["inpaint_full_res"] is False and decode(b["mask"]).max() == 255
        assert {"ControlNet", "Regional Prompter"} <= set(b["alwayson_scripts"])
    text = capsys.readouterr().out
    assert "chained: Cam0 > Cam2 > Cam1" in text and "carried from Cam2, Cam0" in text
    names = {p.name for p in out.iterdir()}
    assert {"Cam0.png", "Cam2.png", "Cam1.png", "Cam2.warp.png", "Cam2.warp.mask.png", "Cam1.warp.png",
            "Cam1.warp.mask.png"} <= names and "Cam0.warp.png" not in names  # fmt: skip
    mask = np.asarray(Image.open(out / "Cam1.warp.mask.png"))
    assert np.array_equal(mask, decode(bodies[2]["mask"]))
    # what the second camera's image shows is carried into the third: the init image sent holds it
    init2 = decode(bodies[2]["init_images"][0])
    warp1 = np.asarray(Image.open(out / "Cam1.warp.png"))
    keep = mask == 0
    assert np.array_equal(init2[keep], warp1[keep])
    assert main(["consistency", str(scene), "--images", str(out)]) == 0
    assert "scene mean" in capsys.readouterr().out


def test_chain_flag_is_short_for_chain_enabled(tmp_path):
    # --chain on every path (plan; run on one webui or over several: tests/test_cluster_chain.py)
    params = {"long_side": 128, "seed": 7}
    assert main(["plan", ROOM, "--out", str(tmp_path / "o"), "--params", json.dumps(params)]) == 0
    assert "chained" not in (tmp_path / "o" / "Cam1.plan.txt").read_text()
    assert main(["plan", ROOM, "--out", str(tmp_path / "c"), "--chain", "--params", json.dumps(params)]) == 0
    assert "chained: step 3 of 3" in (tmp_path / "c" / "Cam1.plan.txt").read_text()
    args = argparse.Namespace(params='{"chain": {"denoise": 0.6}}', chain=True)
    assert _params_data(args)["chain"] == {"denoise": 0.6, "enabled": True}  # the other keys kept


def test_cli_plan_describes_chained_steps(tmp_path, capsys):
    assert main(["plan", ROOM, "--out", str(tmp_path / "o"), "--params", json.dumps(CHAIN)]) == 0
    text = (tmp_path / "o" / "Cam1.plan.txt").read_text()
    assert "chained: step 3 of 3" in text
    assert "chained" not in (tmp_path / "o" / "Cam0.plan.txt").read_text()


def test_resize_helpers_keep_masks_binary():
    m = np.zeros((48, 64), np.uint8)
    m[10:20, 10:30] = 255
    assert set(np.unique(resize_nearest(m, 32, 24)).tolist()) <= {0, 255}
