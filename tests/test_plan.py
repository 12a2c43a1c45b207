"""PlanParams, GenerationPlan, host payloads (lib_scene.plan / lib_scene.params / lib_scene.wire).

Every plan here is built by the real core (regions, normals) from real EXRs written with OpenEXR
(tests/scenes.py) or the sample renders.
"""

from __future__ import annotations

import base64
import io
import json
import os

import numpy as np
import pytest
from conftest import MODELS
from PIL import Image
from scenes import sidecar, write_blender5

from lib_scene.canvas import load_cameras
from lib_scene.errors import HostError, SceneImportError
from lib_scene.exr import write_exr
from lib_scene.imaging import decode_png_b64, resize_nearest, resize_smooth, tonemap_srgb
from lib_scene.params import ParamsError, PlanParams
from lib_scene.plan import (
    GenerationPlan,
    PlanError,
    build_plan,
    mask_colors,
    with_seed,
)
from lib_scene.prompt import count_sections as prompt_sections
from lib_scene.wire import RP_ARG_NAMES, cn_units, endpoint, rp_args, to_payload


@pytest.fixture
def cam(tmp_path):
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(sidecar(), fh)
    return load_cameras([path])[0]


def _png(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


# --------------------------------------------------------------------------- plans


def test_build_plan_txt2img(cam):
    plan = build_plan(
        cam, PlanParams.from_dict({"base_prompt": "a room", "long_side": 128}), available_models=MODELS
    )
    assert (plan.width, plan.height, plan.mode) == (128, 96, "txt2img")
    assert [u.kind for u in plan.units] == ["depth", "normal"]
    assert [u.model for u in plan.units] == MODELS[2:4]
    for u in plan.units:
        assert u.image.shape == (96, 128, 3) and u.image.dtype == np.uint8 and not u.image.flags.writeable
    d = plan.units[0].image
    assert (d[..., 0] == d[..., 1]).all() and (d[..., 1] == d[..., 2]).all()  # grey replicated to RGB
    assert (d[:6] == 0).all()  # sky rows (no hit) are black
    # regions: nearest first (box 3, ball ~3.x, wall 8) -> colours 0, 1, 2; BREAK sections = colours + base
    assert plan.regional.colors == (0, 1, 2) == mask_colors(plan.regional.mask)
    assert plan.prompt == "a room BREAK a wooden box BREAK a red ball BREAK a green wall"
    assert prompt_sections(plan.prompt) == len(plan.regional.colors) + 1
    assert plan.init_image is None and plan.denoising_strength is None
    assert plan.infotext["Scene Import camera"] == "Cam0"
    assert PlanParams.from_json(plan.infotext["Scene Import params"]).base_prompt == "a room"
    assert [r["description"] for r in plan.regions] == ["a wooden box", "a red ball", "a green wall"]


def test_plan_is_deterministic_and_round_trips(cam):
    params = PlanParams.from_dict({"mode": "img2img", "long_side": 64, "seed": 7})
    a = build_plan(cam, params, available_models=MODELS)
    b = build_plan(cam, params, available_models=MODELS)
    assert a.to_dict() == b.to_dict()
    text = json.dumps(a.to_dict())  # JSON-serialisable
    c = GenerationPlan.from_dict(json.loads(text))
    assert c == a and c.to_json() == a.to_json()
    assert np.array_equal(c.init_image, a.init_image) and np.array_equal(c.regional.mask, a.regional.mask)
    assert with_seed(a, 5).seed == 5 and a.seed == 7


def test_plan_from_dict_rejects_bad_input(cam):
    d = build_plan(cam, PlanParams.from_dict({"long_side": 64})).to_dict()
    with pytest.raises(PlanError, match="not a Scene Import plan"):
        GenerationPlan.from_dict({**d, "format": "x"})
    with pytest.raises(PlanError, match="unsupported plan version"):
        GenerationPlan.from_dict({**d, "version": 9})
    with pytest.raises(PlanError, match="lacks 'prompt'"):
        GenerationPlan.from_dict({k: v for k, v in d.items() if k != "prompt"})
    with pytest.raises(PlanError, match="BREAK sections do not match"):
        GenerationPlan.from_dict({**d, "prompt": d["prompt"] + " BREAK extra"})
    with pytest.raises(PlanError, match="region sections for 3 mask colours"):
        GenerationPlan.from_dict({**d, "sections": d["sections"][:2]})
    with pytest.raises(PlanError, match="not valid JSON"):
        GenerationPlan.from_json("{")


def test_img2img_plan_tone_maps_the_beauty(cam):
    plan = build_plan(cam, PlanParams.from_dict({"mode": "img2img", "long_side": 64}))
    assert plan.denoising_strength == 0.52 and plan.init_image.shape == (48, 64, 3)
    expect = resize_smooth(tonemap_srgb(cam.beauty), 64, 48)
    assert np.array_equal(plan.init_image, expect)


def test_img2img_without_beauty_is_a_clear_error(tmp_path):
    from scenes import scene

    depth, _, _, _ = scene()
    write_exr(str(tmp_path / "Z.exr"), {"Z": depth})
    cs = load_cameras([str(tmp_path / "Z.exr")])[0]
    with pytest.raises(PlanError, match="img2img needs a beauty"):
        build_plan(cs, PlanParams.from_dict({"mode": "img2img"}))
    plan = build_plan(cs, PlanParams())  # txt2img: depth only, warnings for the rest
    assert [u.kind for u in plan.units] == ["depth"] and plan.regional is None
    assert any("no normal canvas" in w for w in plan.warnings)


def test_region_lost_in_downscale_leaves_the_prompt(tmp_path):
    # a thin object (one even pixel column, 1.04 % of the frame) that nearest-neighbour sampling
    # at half size skips: it must leave the prompt too, or RP would bind the sections off by one
    from scenes import scene

    depth, ncam, index, beauty = scene(width=128, height=96)
    index[:, 40] = 7
    depth[:, 40] = 2.0
    write_exr(
        str(tmp_path / "Cam0.exr"),
        {"Z": depth, "IndexOB.X": index, **{c: beauty[..., i] for i, c in enumerate("RGB")}},
    )
    side = sidecar()
    side["objects"]["Pole"] = {"pass_index": 7, "Description": "a thin pole"}
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(side, fh)
    cs = load_cameras([str(tmp_path / "Cam0.exr")])[0]
    no_growth = {"normal": {"enabled": False}, "regions": {"grow": 0}}
    full = build_plan(cs, PlanParams.from_dict({"long_side": 128, **no_growth}))
    assert "a thin pole" in full.prompt and len(full.regional.colors) == 4
    half = build_plan(cs, PlanParams.from_dict({"long_side": 64, **no_growth}))
    assert "a thin pole" not in half.prompt
    assert any("vanished at 64x48" in w for w in half.warnings)
    assert len(half.regional.colors) == 3 == prompt_sections(half.prompt) - 1
    assert half.regional.colors == mask_colors(half.regional.mask) == (1, 2, 3)  # colour 0 was the pole
    assert half.sections == ("a wooden box", "a red ball", "a green wall")


def test_keywords_in_base_prompt_are_neutralised(cam):
    plan = build_plan(cam, PlanParams.from_dict({"base_prompt": "room BREAK sofa AND lamp", "long_side": 64}))
    assert plan.prompt.startswith("room break sofa and lamp BREAK ")
    assert prompt_sections(plan.prompt) == 4
    assert any("base prompt held BREAK, AND" in w for w in plan.warnings)


def test_regional_off_gives_a_flat_prompt(cam):
    plan = build_plan(cam, PlanParams.from_dict({"base_prompt": "room", "regional": {"enabled": False}}))
    assert plan.regional is None and "BREAK" not in plan.prompt
    assert plan.prompt == "room, a wooden box, a red ball, a green wall"
    assert "Regional Prompter" not in to_payload(plan)["alwayson_scripts"]


def test_use_base_off_uses_the_common_prompt(cam):
    plan = build_plan(cam, PlanParams.from_dict({"base_prompt": "room", "regional": {"use_base": False}}))
    assert plan.prompt == "room ADDCOMM a wooden box BREAK a red ball BREAK a green wall"
    args = rp_args(plan)
    assert args[RP_ARG_NAMES.index("use_base")] is False and args[RP_ARG_NAMES.index("use_common")] is True


def test_units_can_be_switched_off_and_params_flow_into_units(cam):
    params = PlanParams.from_dict(
        {
            "depth": {"enabled": False},
            "normal": {"weight": 0.7, "guidance_start": 0.1, "control_mode": "ControlNet is more important"},
        }
    )
    plan = build_plan(cam, params)
    assert [u.kind for u in plan.units] == ["normal"]
    u = plan.units[0]
    assert (u.weight, u.guidance_start, u.guidance_end, u.control_mode) == (
        0.7,
        0.1,
        0.5,
        "ControlNet is more important",
    )


def test_missing_normal_model_switches_the_unit_off_with_a_warning(cam):
    plan = build_plan(cam, PlanParams(), available_models=["None", MODELS[2]])
    assert [u.kind for u in plan.units] == ["depth"]
    assert any("no normal ControlNet model" in w for w in plan.warnings)


def test_inline_splits_preset(cam):
    preset = {"version": 1, "curve": "linear", "splits": [{"start": 2.0, "end": 9.0, "levels": 256}]}
    plan = build_plan(cam, PlanParams.from_dict({"splits": preset, "long_side": 64}))
    assert plan.source["splits"]["curve"] == "linear"
    with pytest.raises(PlanError, match="load it first"):
        build_plan(cam, PlanParams.from_dict({"splits": "preset.json"}))


# --------------------------------------------------------------------------- payloads


@pytest.mark.parametrize(("host", "module"), [("a1111", "none"), ("forge", "None")])
def test_payload_shape_for_both_hosts(cam, host, module):
    plan = build_plan(
        cam,
        PlanParams.from_dict({"base_prompt": "room", "long_side": 64, "seed": 3}),
        available_models=MODELS,
    )
    body = to_payload(plan, dialect=host)
    json.dumps(body)
    assert (body["width"], body["height"], body["seed"], body["prompt"]) == (64, 48, 3, plan.prompt)
    assert body["steps"] == 20 and "init_images" not in body and "denoising_strength" not in body
    units = body["alwayson_scripts"]["ControlNet"]["args"]
    assert len(units) == 3 and units[2] == {"enabled": False}
    for u, kind in zip(units[:2], ("depth", "normal"), strict=True):
        assert u["enabled"] is True and u["module"] == module and kind in u["model"]
        assert u["weight"] == 0.3 and u["guidance_start"] == 0.0 and u["guidance_end"] == 0.5
        assert u["control_mode"] == "Balanced" and u["resize_mode"] == "Just Resize"
        assert "mask" not in u
        img = _png(u["image"])
        assert img.mode == "RGB" and img.size == (64, 48)
    rp = body["alwayson_scripts"]["Regional Prompter"]["args"]
    assert len(rp) == 20
    assert rp[:12] == [
        True,
        False,
        "Mask",
        "Columns",
        "Mask",
        "Prompt",
        "1,1",
        "0.2",
        True,
        False,
        False,
        "Attention",
    ]
    assert rp[12:16] == [False, "0", "0", "0.4"] and rp[17:] == ["0", "0", False]
    mask = np.asarray(_png(rp[16]))
    assert mask.shape == (48, 64, 3) and np.array_equal(mask, plan.regional.mask)
    assert prompt_sections(body["prompt"]) == len(mask_colors(mask)) + 1


def test_img2img_payload(cam):
    plan = build_plan(
        cam, PlanParams.from_dict({"mode": "img2img", "long_side": 64, "steps": 2, "cfg_scale": 5})
    )
    body = to_payload(plan, unit_count=2)
    assert endpoint(plan) == "/sdapi/v1/img2img"
    assert body["denoising_strength"] == 0.52 and body["steps"] == 2 and body["cfg_scale"] == 5.0
    init = _png(body["init_images"][0])
    assert init.mode == "RGB" and init.size == (64, 48)
    assert len(body["alwayson_scripts"]["ControlNet"]["args"]) == 2
    with pytest.raises(HostError, match="host has 1 slots"):
        cn_units(plan, "a1111", slots=1)
    with pytest.raises(ValueError):
        to_payload(plan, dialect="comfy")


# --------------------------------------------------------------------------- with the real modules


def test_full_plan_with_real_regions_and_normals(tmp_path):
    root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples", "room")
    if os.path.isdir(root):
        paths = [root]
    else:
        write_blender5(str(tmp_path / "Cam0.exr"))
        with open(tmp_path / "Cam0.json", "w") as fh:
            json.dump(sidecar(), fh)
        paths = [str(tmp_path)]
    cams = load_cameras(paths)
    params = PlanParams.from_dict({"base_prompt": "a room", "mode": "img2img", "long_side": 256})
    for cs in cams:
        plan = build_plan(cs, params, available_models=MODELS)
        assert [u.kind for u in plan.units] == ["depth", "normal"]
        rp = plan.regional
        assert rp is not None and rp.colors == mask_colors(rp.mask)
        assert prompt_sections(plan.prompt) == len(rp.colors) + 1
        assert plan.prompt.startswith("a room BREAK ")
        assert list(plan.sections) == plan.prompt.split(" BREAK ")[1:]
        body = to_payload(plan)
        assert len(body["alwayson_scripts"]["Regional Prompter"]["args"]) == 20
        assert GenerationPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_png_base64_round_trip_and_errors():
    from lib_scene.errors import SceneImportError
    from lib_scene.imaging import png_b64

    rgb = np.arange(48 * 64 * 3, dtype=np.uint32).astype(np.uint8).reshape(48, 64, 3)
    text = png_b64(rgb)
    assert np.array_equal(decode_png_b64(text), rgb)
    assert np.array_equal(decode_png_b64("data:image/png;base64," + text), rgb)
    with pytest.raises(SceneImportError, match="not valid base64"):
        decode_png_b64("@@@")
    with pytest.raises(SceneImportError, match="not a readable PNG"):
        decode_png_b64(base64.b64encode(b"hello").decode())
    with pytest.raises(ValueError):
        png_b64(np.zeros((4, 4, 4), np.uint8))


def test_tonemap_lookup_matches_the_exact_curve():
    from lib_scene.imaging import srgb_encode

    lin = np.linspace(0, 1, 200001, dtype=np.float32)
    got = tonemap_srgb(np.stack([lin, lin, lin], -1)[None])[0, :, 0].astype(int)
    exact = np.rint(srgb_encode(lin.astype(np.float64)) * 255).astype(int)
    assert np.abs(got - exact).max() <= 1 and (got == exact).mean() > 0.999
    assert (np.diff(got) >= 0).all()  # monotonic


def test_region_descriptions_param():
    p = PlanParams.from_dict({"region_descriptions": {"3": "a velvet sofa", 4: "oak floor"}})
    assert p.region_descriptions == {"3": "a velvet sofa", "4": "oak floor"}
    assert PlanParams.from_dict(p.to_dict()) == p
    for bad, needle in (
        ({"x": "a"}, "'x' is not a pass index"),
        ({"1": 2}, "must be a string"),
        ([1], "must be an object"),
    ):
        with pytest.raises(ParamsError, match=needle):
            PlanParams.from_dict({"region_descriptions": bad})


def test_region_descriptions_override_the_sidecar_with_real_regions(tmp_path):
    write_blender5(str(tmp_path / "Cam0.exr"))
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(sidecar(), fh)
    cs = load_cameras([str(tmp_path)])[0]
    params = PlanParams.from_dict(
        {"base_prompt": "room", "long_side": 64, "region_descriptions": {"2": "a steel crate"}}
    )
    plan = build_plan(cs, params)
    assert "a steel crate" in plan.sections and "a wooden box" not in plan.prompt
    assert "a red ball" in plan.sections  # the others still come from the sidecar


# --------------------------------------------------------------------------- the settings reach the core


def test_build_plan_honours_the_regions_threshold_order_and_grow(cam):
    """build_plan passes params.regions to the real build_regions: each setting changes the plan."""
    from lib_scene.regions import build_regions

    def plan_for(**regions):
        return build_plan(cam, PlanParams.from_dict({"long_side": 64, "regions": regions}))

    def expected(**kw):
        res = build_regions(cam, **kw)
        return resize_nearest(res.mask, 64, 48), [r.description for r in res.regions]

    default = plan_for()
    # order: by sidecar distance the ball (5.7) comes before the box (5.9); by depth the box (3) first
    by_distance = plan_for(order="distance")
    assert [r["description"] for r in default.regions] == ["a wooden box", "a red ball", "a green wall"]
    assert [r["description"] for r in by_distance.regions] == ["a red ball", "a wooden box", "a green wall"]
    mask, descs = expected(order="distance")
    assert np.array_equal(by_distance.regional.mask, mask) and list(by_distance.sections) == descs
    # threshold: the box covers 8.8 % of the frame, the ball 22 %: 10 % drops the box only
    high = plan_for(threshold=0.1)
    assert [r["description"] for r in high.regions] == ["a red ball", "a green wall"]
    assert np.array_equal(high.regional.mask, expected(threshold=0.1)[0])
    # grow: seams grow into the unassigned sky rows
    grown = plan_for(grow=6)
    assert (grown.regional.mask.any(-1)).sum() > (default.regional.mask.any(-1)).sum()
    assert np.array_equal(grown.regional.mask, expected(grow=6)[0])
    assert np.array_equal(plan_for(grow=0).regional.mask, expected(grow=0)[0])


def test_build_plan_honours_the_normal_convention(cam):
    from lib_scene.normals import normal_map

    def normal_unit(convention):
        plan = build_plan(
            cam,
            PlanParams.from_dict({"long_side": 64, "normal_convention": convention}),
            available_models=MODELS,
        )
        (unit,) = [u for u in plan.units if u.kind == "normal"]
        return unit

    bae, midas = normal_unit("bae"), normal_unit("midas")
    assert (
        bae.model == "control_v11p_sd15_normalbae [316696f1]"
        and midas.model == "control_sd15_normal [fef5e48e]"
    )
    for unit, convention in ((bae, "bae"), (midas, "midas")):
        want = resize_smooth(normal_map(cam, convention=convention), 64, 48)
        assert np.array_equal(unit.image, want)
    assert not np.array_equal(bae.image, midas.image)


def test_build_plan_sanitises_the_descriptions(tmp_path):
    """Keywords and brackets in the artist's descriptions never reach Regional Prompter raw."""
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    side = sidecar()
    side["objects"]["Box"]["Description"] = "a BREAK box (glowing"
    side["objects"]["Ball"]["Description"] = "a STANDARD\nball"
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(side, fh)
    (cs,) = load_cameras([path])
    plan = build_plan(cs, PlanParams.from_dict({"base_prompt": "room", "long_side": 64}))
    assert plan.sections == ("a break box \\(glowing", "a STandARD ball", "a green wall")
    assert plan.prompt == "room BREAK a break box \\(glowing BREAK a STandARD ball BREAK a green wall"
    assert prompt_sections(plan.prompt) == len(plan.regional.colors) + 1 == 4
    assert sum("neutralised" in w for w in plan.warnings) == 2
    assert any("unbalanced brackets escaped" in w for w in plan.warnings)
    # region_descriptions edits go through the same sanitiser
    edited = build_plan(
        cs, PlanParams.from_dict({"long_side": 64, "region_descriptions": {"3": "a wall AND a door"}})
    )
    assert edited.sections[-1] == "a wall and a door"


# --------------------------------------------------------------------------- the edited prompt, host facts


def test_the_edited_prompt_is_used_verbatim_and_checked(cam):
    text = "(masterpiece:1.2), Room BREAK Box BREAK Ball BREAK Wall"
    plan = build_plan(cam, PlanParams.from_dict({"long_side": 64, "prompt": text, "base_prompt": "ignored"}))
    assert plan.prompt == text and to_payload(plan)["prompt"] == text
    with pytest.raises(
        PlanError, match=r"edited prompt does not fit the regions: .*3 sections, but 3 regions need 4"
    ):
        build_plan(cam, PlanParams.from_dict({"long_side": 64, "prompt": "room BREAK box BREAK ball"}))
    with pytest.raises(PlanError, match="also holds AND"):
        build_plan(cam, PlanParams.from_dict({"long_side": 64, "prompt": "a BREAK b BREAK c AND d BREAK e"}))
    common = build_plan(
        cam,
        PlanParams.from_dict(
            {
                "long_side": 64,
                "prompt": "room ADDCOMM box BREAK ball BREAK wall",
                "regional": {"use_base": False},
            }
        ),
    )
    assert common.regional.use_common is True
    # without regions (RP off) the text is not checked: what the artist typed is what is sent
    flat_plan = build_plan(
        cam, PlanParams.from_dict({"long_side": 64, "prompt": "a BREAK b", "regional": {"enabled": False}})
    )
    assert flat_plan.prompt == "a BREAK b" and flat_plan.regional is None
    assert PlanParams.from_dict({"prompt": "  "}).prompt is None  # empty box: assembled


def test_host_without_controlnet_or_regional_prompter(cam):
    plan = build_plan(
        cam,
        PlanParams.from_dict({"base_prompt": "room", "long_side": 64}),
        controlnet=False,
        regional_prompter=False,
    )
    assert plan.units == () and plan.regional is None and plan.sections == ()
    assert plan.prompt == "room, a wooden box, a red ball, a green wall"
    assert any(w.startswith("ControlNet is not installed") for w in plan.warnings)
    assert any(w.startswith("Regional Prompter is not installed") for w in plan.warnings)
    assert "alwayson_scripts" not in to_payload(plan)


# --------------------------------------------------------------------------- reading plans back


@pytest.fixture
def plan_dict(cam):
    params = {"mode": "img2img", "long_side": 64, "steps": 3, "cfg_scale": 5, "sampler_name": "Euler"}
    params["regional"] = {"use_base": False, "base_ratio": 0.3, "calc": "Latent"}
    return build_plan(
        cam, PlanParams.from_dict({**params, "base_prompt": "room"}), available_models=MODELS
    ).to_dict()


def test_a_non_default_plan_round_trips_field_by_field(plan_dict):
    plan = GenerationPlan.from_dict(plan_dict)
    assert plan.to_dict() == plan_dict
    assert (plan.steps, plan.cfg_scale, plan.sampler_name) == (3, 5.0, "Euler")
    rp = plan.regional
    assert (rp.use_base, rp.use_common, rp.base_ratio, rp.calc, rp.mode) == (
        False,
        True,
        0.3,
        "Latent",
        "Mask",
    )
    assert plan.warnings == tuple(plan_dict["warnings"]) and plan.init_image.shape == (48, 64, 3)
    assert GenerationPlan.from_json(plan.to_json()) == plan and json.loads(plan.to_json())["seed"] == -1


def _png_of(h, w):
    from lib_scene.imaging import png_b64

    return png_b64(np.zeros((h, w, 3), np.uint8))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(width=60), "plan size 60x48 is not a positive multiple of 8"),
        (lambda d: d.update(height=0), "plan size 64x0 is not a positive multiple of 8"),
        (lambda d: d.update(width=0, height=48), "plan size 0x48 is not a positive multiple of 8"),
        (lambda d: d.update(mode="x2img"), "plan mode must be txt2img or img2img, got 'x2img'"),
        (lambda d: d.update(version=9), "unsupported plan version 9 (this build reads 1)"),
        (lambda d: d.update(width="wide"), "malformed plan (invalid literal"),
        (lambda d: d["units"][0].pop("weight"), "a plan unit needs exactly the keys ['control_mode'"),
        (
            lambda d: d["units"][0].update(control_mode="x"),
            "plan unit 'depth' has an invalid control or resize",
        ),
        (
            lambda d: d["units"][1].update(resize_mode="x"),
            "plan unit 'normal' has an invalid control or resize",
        ),
        (
            lambda d: d["units"][0].update(image=_png_of(24, 32)),
            "depth unit image is (24, 32, 3), not 48x64 RGB",
        ),
        (lambda d: d["units"][1].update(image="@@"), "normal unit image is not valid base64"),
        (lambda d: d.update(init_image=_png_of(24, 32)), "init image is not at the generation size"),
        (lambda d: d.update(init_image="@@"), "init image is not valid base64"),
        (lambda d: d.update(init_image=None), "an img2img plan needs an init image"),
        (
            lambda d: d["regional"].pop("calc"),
            "a plan's 'regional' entry needs exactly the keys ['base_ratio'",
        ),
        (lambda d: d["regional"].update(mask=_png_of(24, 32)), "region mask is not at the generation size"),
        (lambda d: d["regional"].update(mask="@@"), "region mask is not valid base64"),
        (
            lambda d: d["regional"].update(colors=[0, 1]),
            "region mask holds colours (0, 1, 2), the plan lists (0, 1)",
        ),
        (
            lambda d: d.update(sections=["a"]),
            "1 region sections for 3 mask colours; Regional Prompter binds them",
        ),
    ],
)
def test_a_broken_plan_is_refused_with_what_is_wrong(plan_dict, change, needle):
    change(plan_dict)
    with pytest.raises(SceneImportError) as err:  # a PlanError, or the image decoder's error
        GenerationPlan.from_dict(plan_dict)
    assert needle in str(err.value)


def test_large_rgb_images_resize_the_same_channel_by_channel(monkeypatch):
    """imaging.resize_smooth resizes large RGB images one channel at a time (less memory): the
    pixels are Pillow's RGB resize's, shrinking (BOX) and enlarging (BILINEAR)."""
    import numpy as np
    from PIL import Image

    from lib_scene import imaging

    monkeypatch.setattr(imaging, "_BIG", 0)
    rng = np.random.default_rng(2)
    for (h, w), (W, H) in [((301, 407), (128, 96)), ((50, 60), (121, 83)), ((64, 64), (64, 32))]:
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        method = Image.Resampling.BOX if (w >= W and h >= H) else Image.Resampling.BILINEAR
        want = np.asarray(Image.fromarray(a, "RGB").resize((W, H), method))
        got = imaging.resize_smooth(a, W, H)
        assert got.dtype == np.uint8 and got.shape == (H, W, 3) and np.array_equal(got, want)
