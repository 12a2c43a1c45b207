"""Chained generation through the host glue, against the FAKE A1111 (tests/fake_a1111): the dropdown
Script in txt2img and img2img, on the bundled samples/room. Every camera after the first must be an
img2img inpaint with its mask, its own ControlNet units and Regional Prompter, and the one seed."""

from __future__ import annotations

import os

import glue_env as glue
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")
Env = glue.Env
a1111, entry, _reset = glue.a1111, glue.entry, glue._reset  # the glue tests' fixtures

CHAIN = {"scene": "room", "long_side": 64, "seed": 21, "chain": {"enabled": True}}


@pytest.fixture
def processed(a1111, monkeypatch):
    """Every processing object the fake ``process_images`` ran, in order."""
    seen = []
    real = a1111.processing.process_images

    def record(p):
        seen.append(p)
        return real(p)

    monkeypatch.setattr(a1111.processing, "process_images", record)
    a1111.shared.cmd_opts.scene_import_allowed_dir = [SAMPLES]
    return seen


def _check_chain(seen, env_cn_calls, env_rp_calls, n_first_cn=1):
    assert [p.extra_generation_params["Scene Import camera"] for p in seen] == ["Cam0", "Cam2", "Cam1"]
    assert len({p.seed for p in seen}) == 1 and seen[0].seed == 21
    for p in seen[1:]:
        assert hasattr(p, "init_images") and p.denoising_strength == 0.75
        mask = np.asarray(p.image_mask)
        assert p.image_mask.mode == "L" and mask.shape == (p.height, p.width) and mask.max() == 255
        assert 0 < (mask > 0).mean() < 1
        assert (p.mask_blur, p.inpainting_fill, p.inpaint_full_res, p.inpainting_mask_invert) == (
            4,
            1,
            False,
            0,
        )
        assert p.init_images[0].size == (p.width, p.height)
        assert p.extra_generation_params["Scene Import chain"] in ("2/3", "3/3")
    assert len(env_cn_calls) == 3 and len(env_rp_calls) == 3  # ControlNet and RP in every camera
    for cn, rp in zip(env_cn_calls, env_rp_calls, strict=True):
        assert (
            sum(1 for u in cn if getattr(u, "enabled", False) or (isinstance(u, dict) and u["enabled"])) == 2
        )
        assert rp[0] is True and rp[2] == "Mask"


def test_txt2img_script_chains_with_img2img_inpaint_steps(a1111, entry, processed, monkeypatch):
    t2i, i2i = Env(a1111, entry), Env(a1111, entry, img2img=True)
    monkeypatch.setattr(a1111.scripts, "scripts_img2img", i2i.runner, raising=False)
    p = t2i.p(CHAIN, steps=3)
    result = t2i.run(p)
    seen = processed
    assert type(seen[0]).__name__ == "StableDiffusionProcessingTxt2Img"
    assert [type(q).__name__ for q in seen[1:]] == ["StableDiffusionProcessingImg2Img"] * 2
    assert all(q.steps == 3 and q.closed for q in seen[1:])  # the UI's steps; made here, closed here
    _check_chain(seen, t2i.cn.calls + i2i.cn.calls, t2i.rp.calls + i2i.rp.calls)
    assert len(t2i.cn.calls) == 1 and len(i2i.cn.calls) == 2
    assert len(result.images) == 3 and len(set(result.all_seeds)) == 1
    assert a1111.shared.state.job_count == 3


def test_img2img_script_chains_on_copies_of_p(a1111, entry, processed):
    env = Env(a1111, entry, img2img=True)
    p = env.p(CHAIN, init_images=[None], denoising_strength=0.3)
    env.run(p)
    seen = processed
    assert all(type(q).__name__ == "StableDiffusionProcessingImg2Img" for q in seen)
    assert seen[0].image_mask is None and seen[0].denoising_strength == 0.52  # from the beauty, as today
    _check_chain(seen, env.cn.calls, env.rp.calls)
    assert p.image_mask is None  # the original p is untouched: copies ran


def test_chain_init_image_holds_the_earlier_image_warped(a1111, entry, processed, monkeypatch):
    """The second camera's init image is the first camera's generated picture (the fake paints a flat
    colour) wherever it was carried, and the mask is exactly where nothing was."""
    t2i, i2i = Env(a1111, entry), Env(a1111, entry, img2img=True)
    monkeypatch.setattr(a1111.scripts, "scripts_img2img", i2i.runner, raising=False)
    t2i.run(t2i.p(CHAIN))
    second = processed[1]
    init = np.asarray(second.init_images[0])
    keep = np.asarray(second.image_mask) == 0
    assert keep.mean() > 0.3 and (init[keep] == (10, 20, 30)).all()  # the fake's picture, carried
    assert not (init[~keep] == (10, 20, 30)).all(axis=-1).all()  # the holes: Cam2's beauty


def test_blend_pass_is_a_second_img2img_without_mask(a1111, entry, processed):
    env = Env(a1111, entry, img2img=True)
    env.run(env.p({**CHAIN, "chain": {"enabled": True, "blend": 0.15}}, init_images=[None]))
    masks = [q.image_mask is not None for q in processed]
    assert masks == [False, True, False, True, False]
    assert [q.denoising_strength for q in processed[2::2]] == [0.15, 0.15]
    assert a1111.shared.state.job_count == 5
