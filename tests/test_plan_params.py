"""Plan params, their schema and the pure helpers a plan is built from (split from test_plan.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import MODELS

from lib_scene.imaging import resize_nearest, resize_smooth, tonemap_srgb
from lib_scene.palette import region_color
from lib_scene.params import ParamsError, PlanParams, field_specs, params_schema
from lib_scene.plan import (
    DEFAULT_MODELS,
    PlanError,
    choose_model,
    generation_size,
    resolve_model,
)
from lib_scene.prompt import compose as compose_prompt
from lib_scene.prompt import count_sections as prompt_sections
from lib_scene.prompt import sanitize
from lib_scene.wire import RP_ARG_NAMES

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
