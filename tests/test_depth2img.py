"""SD 2 depth models: the conditioning array made from the scene's depth (pure numpy), the plan's
depth map, and the glue's choice of model (a real A1111 run is in tests/integration/test_webui_depth2img.py)."""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest
from conftest import SAMPLES

from lib_scene.canvas import load_cameras
from lib_scene.depth2img import conditioning_digest, depth_conditioning, latent_size
from lib_scene.errors import PlanError
from lib_scene.params import PlanParams
from lib_scene.plan import GenerationPlan, build_plan


def test_blocks_map_exactly_to_minus_one_plus_one_near_positive():
    # 8x8 blocks of constant grey: the latent-size conditioning is the blocks' values, normalised
    blocks = np.array([[0, 64, 255], [128, 32, 16]], dtype=np.uint8)
    grey = np.kron(blocks, np.ones((8, 8), dtype=np.uint8))
    cond, warning = depth_conditioning(grey, 3, 2, batch=2)
    assert warning is None and cond.shape == (2, 1, 2, 3) and cond.dtype == np.float32
    want = 2 * blocks.astype(np.float64) / 255 - 1
    np.testing.assert_allclose(cond[0, 0], want, atol=2e-3)
    assert cond.max() == 1.0 and cond.min() == -1.0
    assert cond[0, 0, 0, 2] == 1.0  # white = near = +1, as MiDaS's inverse depth after A1111's normalising
    np.testing.assert_array_equal(cond[0], cond[1])


def test_min_max_normalisation_ignores_the_absolute_greys():
    grey = np.kron(np.array([[100, 110]], np.uint8), np.ones((16, 16), np.uint8))
    cond, _ = depth_conditioning(np.dstack([grey] * 3), 4, 2)
    assert cond.min() == -1.0 and cond.max() == 1.0
    assert (cond[0, 0, :, :2] < 0).all() and (cond[0, 0, :, 2:] > 0).all()


def test_flat_map_gives_zeros_not_nan():
    cond, warning = depth_conditioning(np.full((16, 16), 7, np.uint8), 2, 2)
    assert not np.isnan(cond).any() and (cond == 0).all() and "flat" in warning


def test_bad_maps_are_refused():
    with pytest.raises(PlanError, match="8-bit grey"):
        depth_conditioning(np.zeros((8, 8), np.float32), 1, 1)
    with pytest.raises(PlanError, match="empty"):
        depth_conditioning(np.zeros((8, 8), np.uint8), 0, 1)


def test_latent_size_and_digest():
    assert latent_size(512, 384) == (64, 48)
    a = np.linspace(-1, 1, 12, dtype=np.float32).reshape(1, 1, 3, 4)
    assert conditioning_digest(a) == conditioning_digest(a.astype(np.float64) + 1e-7)
    assert conditioning_digest(a) != conditioning_digest(a[..., ::-1])


@pytest.fixture(scope="module")
def room():
    return load_cameras(os.path.join(SAMPLES, "room", "Cam0.exr"))[0]


def test_plan_carries_the_depth_map_even_without_a_controlnet_depth_unit(room):
    with_cn = build_plan(room, PlanParams.from_dict({"long_side": 256}))
    depth_unit = next(u for u in with_cn.units if u.kind == "depth")
    assert with_cn.depth_map is not None and with_cn.depth_map.shape == (with_cn.height, with_cn.width)
    np.testing.assert_array_equal(with_cn.depth_map, depth_unit.image[..., 0])

    without = build_plan(
        room, PlanParams.from_dict({"long_side": 256, "depth": {"enabled": False}}), controlnet=False
    )
    assert not without.units
    np.testing.assert_array_equal(without.depth_map, with_cn.depth_map)
    cond, _ = depth_conditioning(without.depth_map, *latent_size(without.width, without.height))
    assert cond.shape == (1, 1, without.height // 8, without.width // 8)
    # near (white) in the map is near (+1) in the conditioning
    small = np.asarray(without.depth_map[4::8, 4::8], dtype=np.int32)
    assert np.corrcoef(small.ravel(), cond[0, 0].ravel())[0, 1] > 0.95


def test_plan_round_trip_keeps_the_depth_map_and_reads_older_plans(room):
    plan = build_plan(room, PlanParams.from_dict({"long_side": 128}))
    d = plan.to_dict()
    back = GenerationPlan.from_dict(d)
    np.testing.assert_array_equal(back.depth_map, plan.depth_map)
    del d["depth_map"]  # a plan written before the depth map existed
    assert GenerationPlan.from_dict(d).depth_map is None


# --------------------------------------------------------------------------- glue (no torch here)


@pytest.fixture
def fake_ldm(monkeypatch):
    """The class A1111 tests for, under its real module path."""
    mod = types.ModuleType("ldm.models.diffusion.ddpm")

    class LatentDepth2ImageDiffusion:
        pass

    mod.LatentDepth2ImageDiffusion = LatentDepth2ImageDiffusion
    for name in ("ldm", "ldm.models", "ldm.models.diffusion"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "ldm.models.diffusion.ddpm", mod)
    return LatentDepth2ImageDiffusion


def test_glue_sets_the_conditioning_only_for_depth_models(room, fake_ldm):
    from scene_import_a1111.depth2img import CN_OPTIONAL, INFOTEXT_KEY, NO_DEPTH, apply_depth2img

    plan = build_plan(room, PlanParams.from_dict({"long_side": 128}))
    sd15 = types.SimpleNamespace(sd_model=object(), extra_generation_params={})
    assert apply_depth2img(sd15, plan, print) is None
    assert (
        not hasattr(sd15, "depth2img_image_conditioning") and INFOTEXT_KEY not in sd15.extra_generation_params
    )

    p = types.SimpleNamespace(sd_model=fake_ldm(), extra_generation_params={})
    assert apply_depth2img(p, plan, print) == CN_OPTIONAL  # the plan still has its ControlNet depth unit
    assert callable(p.depth2img_image_conditioning) and callable(p.txt2img_image_conditioning)
    assert p.extra_generation_params[INFOTEXT_KEY] == "scene depth (MiDaS off)"

    no_cn = build_plan(room, PlanParams.from_dict({"long_side": 128, "depth": {"enabled": False}}))
    assert apply_depth2img(types.SimpleNamespace(sd_model=fake_ldm()), no_cn, print) is None

    flat = types.SimpleNamespace(sd_model=fake_ldm())
    from dataclasses import replace

    assert apply_depth2img(flat, replace(plan, depth_map=None), print) == NO_DEPTH
    assert not hasattr(flat, "depth2img_image_conditioning")
