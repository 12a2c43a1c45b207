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
from PIL import Image
from scenes import sidecar, write_blender5

from lib_scene.canvas import load_cameras
from lib_scene.errors import HostError, SceneImportError
from lib_scene.exr import write_exr
from lib_scene.imaging import decode_png_b64, resize_nearest, resize_smooth, tonemap_srgb
from lib_scene.palette import region_color
from lib_scene.params import ParamsError, PlanParams, field_specs, params_schema
from lib_scene.plan import (
    DEFAULT_MODELS,
    GenerationPlan,
    PlanError,
    build_plan,
    choose_model,
    generation_size,
    mask_colors,
    resolve_model,
    with_seed,
)
from lib_scene.prompt import compose as compose_prompt
from lib_scene.prompt import count_sections as prompt_sections
from lib_scene.prompt import sanitize
from lib_scene.wire import RP_ARG_NAMES, cn_units, endpoint, rp_args, to_payload

MODELS = [
    "None",
    "t2iadapter_depth_sd14v1 [3e7c4d3e]",
    "control_v11f1p_sd15_depth [cfd03158]",
    "control_v11p_sd15_normalbae [316696f1]",
    "control_sd15_normal [fef5e48e]",
    "control_v11p_sd15_canny [d14c016b]",
]


@pytest.fixture
def cam(tmp_path):
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(sidecar(), fh)
    return load_cameras([path])[0]


def _png(b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64)))


# --------------------------------------------------------------------------- params


def test_params_defaults_are_the_issue_defaults():
    p = PlanParams()
    assert (p.mode, p.long_side, p.denoise, p.seed) == ("txt2img", 512, 0.52, -1)
    for u in (p.depth, p.normal):
        assert u.enabled and u.weight == 0.3 and u.guidance_start == 0.0 and u.guidance_end == 0.5
        assert (u.control_mode, u.model, u.module, u.resize_mode) == (
            "Balanced",
            "auto",
            "none",
            "Just Resize",
        )
    rp = p.regional
    assert (rp.enabled, rp.mode, rp.base_ratio, rp.use_base, rp.calc) == (
        True,
        "Mask",
        0.2,
        True,
        "Attention",
    )
    assert (p.regions.source, p.regions.threshold, p.regions.grow, p.regions.order) == (
        "auto",
        0.005,
        1,
        "depth",
    )
    assert p.normal_convention == "bae" and p.splits is None and p.steps is None


def test_params_from_nested_and_dotted_dicts_over_a_base():
    base = PlanParams.from_dict({"depth": {"weight": 0.5}})
    p = PlanParams.from_dict(
        {"normal.guidance_end": 0.8, "regional": {"calc": "latent"}, "steps": 3}, base=base
    )
    assert p.depth.weight == 0.5  # from the base
    assert p.normal.guidance_end == 0.8 and p.normal.weight == 0.3
    assert p.regional.calc == "Latent"  # choices match case-insensitively and are normalised
    assert p.steps == 3
    assert PlanParams.from_dict(p.to_dict()) == p
    assert PlanParams.from_json(p.to_json()) == p
    assert p.diff(base) == {"normal.guidance_end": 0.8, "regional.calc": "Latent", "steps": 3}


def test_params_unknown_keys_are_reported_with_suggestions():
    with pytest.raises(ParamsError) as err:
        PlanParams.from_dict({"depth": {"wieght": 1}, "sead": 3, "weight": 0.4, "zzz": 1})
    probs = err.value.problems
    assert "unknown parameter 'depth.wieght' (did you mean 'depth.weight'" in probs[0]
    assert any(p.startswith("unknown parameter 'sead' (did you mean 'seed'") for p in probs)
    assert any("'weight'" in p and "'depth.weight'" in p and "'normal.weight'" in p for p in probs)
    assert any(p == "unknown parameter 'zzz'" for p in probs)
    assert len(probs) == 4  # every problem is reported at once


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"depth": {"weight": "0.3"}}, "depth.weight must be a number"),
        ({"depth": {"weight": 2.5}}, "depth.weight must be in [0, 2], got 2.5"),
        ({"normal": {"guidance_start": 0.7, "guidance_end": 0.6}}, "must not exceed normal.guidance_end"),
        ({"regional": {"use_base": 1}}, "regional.use_base must be true or false"),
        ({"depth": {"control_mode": 2}}, "depth.control_mode must be a string"),
        ({"depth": {"control_mode": "balanced-ish"}}, "must be one of 'Balanced'"),
        ({"long_side": 768.5}, "long_side must be a whole number"),
        ({"long_side": 32}, "long_side must be 0 (canvas size) or at least 64"),
        (
            {"regions": {"source": "colour"}},
            "regions.source must be auto, index, material, splits, cryptomatte[:<LAYER>] or aov:<NAME>",
        ),
        ({"depth": 0.3}, "'depth' must be an object"),
        ({"seed": None}, "seed must not be null"),
        ({"splits": 3}, "splits must be a split preset object or a preset file path"),
        ({"denoise": float("nan")}, "denoise must be finite"),
    ],
)
def test_params_validation_messages(data, needle):
    with pytest.raises(ParamsError) as err:
        PlanParams.from_dict(data)
    assert needle in str(err.value)


def test_params_not_an_object():
    with pytest.raises(ParamsError, match="must be a JSON object, got list"):
        PlanParams.from_dict([1])
    with pytest.raises(ParamsError, match="not valid JSON"):
        PlanParams.from_json("{nope")
    assert PlanParams.from_json("  ") == PlanParams()


def test_params_source_and_nullable_normalisation():
    p = PlanParams.from_dict({"regions": {"source": "AOV: IndexOB "}, "sampler_name": "", "steps": None})
    assert p.regions.source == "aov:IndexOB" and p.sampler_name is None and p.steps is None


def test_schema_covers_every_field():
    s = params_schema()
    assert s["additionalProperties"] is False
    dw = s["properties"]["depth"]["properties"]["weight"]
    assert dw == {"title": "weight", "default": 0.3, "type": "number", "minimum": 0.0, "maximum": 2.0}
    assert s["properties"]["regional"]["properties"]["mode"]["enum"] == ["Mask"]
    assert s["properties"]["steps"]["type"] == ["integer", "null"]
    n = sum(len(v["properties"]) if v.get("type") == "object" else 1 for v in s["properties"].values())
    assert n == len(field_specs())
    json.dumps(s)


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("w", "h", "long", "want"),
    [
        (1920, 1080, 512, (512, 288)),
        (1080, 1920, 512, (288, 512)),
        (64, 48, 64, (64, 48)),
        (1000, 333, 512, (512, 168)),
        (512, 384, 0, (512, 384)),
        (1001, 500, 0, (1000, 496)),
        (4000, 100, 512, (512, 16)),
        (500, 500, 500, (504, 504)),
    ],
)
def test_generation_size_snaps_to_8_keeping_aspect(w, h, long, want):
    gw, gh = generation_size(w, h, long)
    assert (gw, gh) == want
    assert gw % 8 == 0 and gh % 8 == 0
    assert abs(gw / gh - w / h) * min(gh, gw) <= 8 * max(w / h, h / w)


def test_choose_model_by_kind():
    assert choose_model("depth", MODELS) == "control_v11f1p_sd15_depth [cfd03158]"
    assert choose_model("normal", MODELS) == "control_v11p_sd15_normalbae [316696f1]"
    assert choose_model("normal", MODELS, convention="midas") == "control_sd15_normal [fef5e48e]"
    assert (
        choose_model("depth", ["None", "t2iadapter_depth_sd14v1 [3e7c4d3e]"])
        == "t2iadapter_depth_sd14v1 [3e7c4d3e]"
    )
    assert choose_model("normal", ["None", "control_v11p_sd15_canny [d14c016b]"]) is None
    assert choose_model("depth", None) == DEFAULT_MODELS["depth"] == "control_v11f1p_sd15_depth"
    assert choose_model("normal", None) == "control_v11p_sd15_normalbae"
    with pytest.raises(ValueError):
        choose_model("pose", MODELS)


def test_resolve_model_names():
    assert resolve_model("depth", "auto", MODELS) == ("control_v11f1p_sd15_depth [cfd03158]", None)
    assert (
        resolve_model("depth", "Control_V11f1p_SD15_depth", MODELS)[0]
        == "control_v11f1p_sd15_depth [cfd03158]"
    )
    assert resolve_model("depth", "my_depth", None) == ("my_depth", None)
    model, warn = resolve_model("normal", "auto", ["None"])
    assert model is None and "no normal ControlNet model" in warn
    with pytest.raises(PlanError, match="did you mean 'control_v11p_sd15_normalbae"):
        resolve_model("normal", "control_v11p_sd15_normalbea", MODELS)


def test_choose_model_ranks_the_tiers():
    depth = ["None", "t2iadapter_depth_sd14v1 [a]", "control_sd15_depth [b]", "control_v11p_sd15_depth_x [c]",
             "Control_V11F1P_SD15_Depth [d]"]  # fmt: skip
    picks = []
    while len(depth) > 1:  # default (any case), then ControlNet 1.1, then sd15, then any depth model
        picks.append(choose_model("depth", depth))
        depth.remove(picks[-1])
    assert picks == ["Control_V11F1P_SD15_Depth [d]", "control_v11p_sd15_depth_x [c]", "control_sd15_depth [b]",
                     "t2iadapter_depth_sd14v1 [a]"]  # fmt: skip
    assert choose_model("depth", ["None", ""]) is None and choose_model("depth", []) is None
    # ties go by name
    assert choose_model("depth", ["z_depth [1]", "a_depth [2]"]) == "a_depth [2]"
    normal = ["control_sd15_normal [e]", "t2i_normal [f]", "control_v11p_sd15_normalbae [g]",
              "control_v11e_sd15_normal_x [h]", "sd15_normalbae_y [i]"]  # fmt: skip
    bae = []
    pool = list(normal)
    while pool:  # bae: default, v11, sd15 bae; non-bae non-1.1 models last
        bae.append(choose_model("normal", pool))
        pool.remove(bae[-1])
    assert bae == ["control_v11p_sd15_normalbae [g]", "control_v11e_sd15_normal_x [h]", "sd15_normalbae_y [i]",
                   "control_sd15_normal [e]", "t2i_normal [f]"]  # fmt: skip
    midas = []
    pool = list(normal)
    while pool:  # midas: its default, then 1.1, then sd15; bae models last
        midas.append(choose_model("normal", pool, "midas"))
        pool.remove(midas[-1])
    assert midas == ["control_sd15_normal [e]", "control_v11e_sd15_normal_x [h]", "t2i_normal [f]",
                     "control_v11p_sd15_normalbae [g]", "sd15_normalbae_y [i]"]  # fmt: skip
    assert choose_model("normal", None, "midas") == "control_sd15_normal"
    with pytest.raises(ValueError, match="unknown unit kind 'pose'"):
        choose_model("pose", None)


def test_resolve_model_messages():
    assert resolve_model("depth", "", MODELS) == resolve_model("depth", " AUTO ", MODELS)
    assert resolve_model("normal", "auto", MODELS, "midas") == ("control_sd15_normal [fef5e48e]", None)
    assert resolve_model("depth", MODELS[1], MODELS) == (MODELS[1], None)
    assert resolve_model("normal", "auto", []) == (
        None, "no normal ControlNet model among the host's models (none); the normal unit is off")  # fmt: skip
    assert resolve_model("depth", "auto", ["None", "a_canny [1]", "b_pose [2]"])[1] == (
        "no depth ControlNet model among the host's models (a_canny [1], b_pose [2]); the depth unit is off"
    )
    close = ["depth_a [1]", "depth_b [2]", "depth_c [3]", "depth_d [4]", "None"]
    with pytest.raises(PlanError) as err:
        resolve_model("depth", "depth_", close)
    assert str(err.value) == (
        "depth model 'depth_' is not among the host's ControlNet models "
        "(did you mean 'depth_d [4]' or 'depth_c [3]' or 'depth_b [2]'?)"  # the 3 closest
    )
    with pytest.raises(PlanError) as err:
        resolve_model("depth", "zzzzzzzzzzzzzz", ["None", "control_v11p_sd15_canny [d14c016b]"])
    assert str(err.value) == "depth model 'zzzzzzzzzzzzzz' is not among the host's ControlNet models"


def test_rp_arg_order_is_pinned_to_be62345():
    # scripts/rp.py lines 443-444 at hako-mikan/sd-webui-regional-prompter be62345:
    # return [active, dummy_false, rp_selected_tab, mmode, xmode, pmode, ratios, baseratios,
    #         usebase, usecom, usencom, calcmode, options, lnter, lnur, threshold, polymask, lstop, lstop_hr, flipper]
    assert RP_ARG_NAMES == (
        "active", "debug", "mode", "matrix_submode", "mask_submode", "prompt_submode", "divide_ratios",
        "base_ratios", "use_base", "use_common", "use_ncommon", "calc_mode", "options", "lora_neg_te",
        "lora_neg_u", "threshold", "mask", "lora_stop", "lora_hires_stop", "flip",
    )  # fmt: skip


def test_compose_prompt_layouts():
    assert compose_prompt("room", ["a", "b"], True) == ("room BREAK a BREAK b", False)
    assert compose_prompt("", ["a", "b"], True) == ("BREAK a BREAK b", False)
    assert compose_prompt("room", ["a", "b"], False) == ("room ADDCOMM a BREAK b", True)
    assert compose_prompt("", ["a", "b"], False) == ("a BREAK b", False)
    assert compose_prompt("room", [], True) == ("room", False)
    assert prompt_sections("room BREAK a BREAK b") == 3 and prompt_sections("room ADDCOMM a BREAK b") == 3


def test_neutralise_keywords():
    warnings: list[str] = []
    text = sanitize("a BREAK b\nAND c ADDCOMM STANDARD", warnings, "base prompt")
    assert text == "a break b and c addcomm STandARD"
    assert warnings and warnings[0].startswith("base prompt held ADDCOMM, BREAK, AND; neutralised")
    assert "BREAK" not in text and "AND" not in text


def test_tonemap_standard_and_reinhard():
    lin = np.array([[[0.0, 0.5, 1.0], [2.0, np.nan, -1.0]]], np.float32)
    out = tonemap_srgb(lin)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 3)
    assert out[0, 0].tolist() == [0, 188, 255]  # sRGB(0.5) = 0.7354
    assert out[0, 1].tolist() == [255, 0, 0]  # clip, NaN -> 0, negative -> 0
    rh = tonemap_srgb(np.array([[[1.0, 3.0, 0.0, 1.0]]], np.float32), "reinhard")  # RGBA: alpha ignored
    assert rh[0, 0].tolist() == [188, 225, 0]  # 1 -> 0.5, 3 -> 0.75
    with pytest.raises(ValueError, match="unknown tone map"):
        tonemap_srgb(lin, "filmic")


def test_resizers():
    rng = np.random.default_rng(0)
    pal = np.array([region_color(i) for i in range(5)] + [(0, 0, 0)], np.uint8)
    mask = pal[rng.integers(0, 6, (97, 131))]
    small = resize_nearest(mask, 64, 48)
    assert small.shape == (48, 64, 3)
    assert {tuple(c) for c in small.reshape(-1, 3)} <= {tuple(c) for c in pal}  # no invented colour
    grey = rng.integers(0, 256, (97, 131), dtype=np.uint8)
    assert resize_smooth(grey, 64, 48).shape == (48, 64)
    assert resize_smooth(np.dstack([grey] * 3), 200, 150).shape == (150, 200, 3)
    const = np.full((40, 40, 3), 77, np.uint8)
    assert (resize_smooth(const, 16, 16) == 77).all()


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
