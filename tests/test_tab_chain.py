"""The tab's chain: "Chain cameras" in Generate, the next camera's warp and mask preview, and the
per-pair consistency after a run, on the bundled samples/room with a host that keeps what the mask
keeps (like A1111's inpaint overlay). Needs gradio (skipped without it)."""

from __future__ import annotations

import os

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from lib_scene.imaging import resize_smooth, to_rgb8  # noqa: E402
from lib_scene.params import PlanParams  # noqa: E402
from scene_import_a1111.tab import TabSession, build_tab, plans  # noqa: E402
from scene_import_a1111.tab import chain as tab_chain  # noqa: E402
from scene_import_a1111.tab.generate import run_cameras, run_chained  # noqa: E402

ROOM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "samples", "room")


@pytest.fixture
def room():
    s = TabSession()
    s.load([ROOM], folder=ROOM)
    return s


class Host:
    """Keeps the init image where the mask is black, paints the rest with a smooth random picture."""

    def __init__(self):
        self.plans = []

    def __call__(self, plan):
        self.plans.append(plan)
        rng = np.random.default_rng([plan.seed, len(self.plans)])
        img = to_rgb8(resize_smooth(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), plan.width, plan.height))
        img = img.copy()
        if plan.init_image is not None:
            keep = np.ones(img.shape[:2], bool) if plan.mask is None else plan.mask == 0
            img[keep] = plan.init_image[keep]
        return [img]


def _params(s, chain):
    d = plans.tab_params(s, "txt2img", 9, "", "")
    d["long_side"] = 128
    if chain:
        d["chain"] = {"enabled": True}
    return d


def _progress(*a, **k):
    pass


def test_the_generate_panel_has_the_chain_controls(tmp_path):
    demo = build_tab(host=Host(), presets_dir=str(tmp_path))
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    for needed in ("scene-import-chain", "scene-import-chain-preview", "scene-import-chain-warp",
                   "scene-import-chain-mask", "scene-import-consistency"):  # fmt: skip
        assert needed in ids


def test_chained_generate_inpaints_every_camera_after_the_first(room):
    host = Host()
    todo = plans.resolve_tab(room, _params(room, True), plans.Facts())
    images, lines = run_chained(room, todo, host, _progress)
    assert [p.camera for p in host.plans] == ["Cam0", "Cam2", "Cam1"]
    assert host.plans[0].mask is None and all(
        p.mask is not None and p.mode == "img2img" for p in host.plans[1:]
    )
    assert len({p.seed for p in host.plans}) == 1 and host.plans[0].seed == 9
    assert all(p.units and p.regional is not None for p in host.plans)
    assert len(images) == 1 + 3 + 3  # each result, plus warp and mask after the first
    assert (
        "generated as usual" in lines[0]
        and "carried from Cam0" in lines[1]
        and "carried from Cam2, Cam0" in lines[2]
    )
    assert set(room.generated) == {"Cam0", "Cam1", "Cam2"}
    chained = tab_chain.consistency_text(room, room.generated)
    assert "| Cam0 - Cam1 |" in chained and "scene mean" in chained


def test_consistency_after_a_run_tells_chained_from_independent(room):
    todo = plans.resolve_tab(room, _params(room, True), plans.Facts())
    run_chained(room, todo, Host(), _progress)
    chained = dict(room.generated)
    other = TabSession()
    other.load([ROOM], folder=ROOM)
    run_cameras(other, plans.resolve_tab(other, _params(other, False), plans.Facts()), Host(), _progress)
    views = tab_chain._views(room, list(chained))
    from lib_scene.consistency import scene_consistency

    a, b = scene_consistency(views, chained), scene_consistency(views, other.generated)
    assert a.psnr > b.psnr + 10
    assert f"**{a.psnr:.2f}**" in tab_chain.consistency_text(room, chained)


def test_preview_next_warp_and_mask(room):
    params = PlanParams.from_dict({"long_side": 128})
    assert room.state.current == "Cam0"
    warp, mask, caption = tab_chain.preview_next(room, params)  # nothing generated: Cam0's beauty
    assert warp.shape == (96, 128, 3) and mask.shape == (96, 128)
    assert 0.2 < (mask > 0).mean() < 0.8 and not warp[mask > 0].any()
    assert "**Cam2**" in caption and "Cam0 (beauty)" in caption
    room.generated["Cam0"] = np.full((96, 128, 3), 77, np.uint8)
    warp2, mask2, caption2 = tab_chain.preview_next(room, params)
    assert (mask2 != mask).mean() < 0.15  # the same geometry (the source grid differs: 128 vs 512 px)
    assert (warp2[mask2 == 0] == 77).all() and "Cam0 (generated)" in caption2


def test_preview_needs_poses(tmp_path):
    from scenes import write_daz

    folder = str(tmp_path / "daz")
    os.makedirs(folder)
    write_daz(folder)
    s = TabSession()
    s.load([folder], folder=folder)
    assert "two cameras" in tab_chain.preview_next(s, PlanParams())[2]
    images = {cam: np.zeros((8, 8, 3), np.uint8) for cam in [*s.state.cameras, "gone"]}
    assert "poses" in tab_chain.consistency_text(s, images)
