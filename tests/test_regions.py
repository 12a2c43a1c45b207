"""Index passes -> Regional Prompter masks, region tables and prompts (issue 3).

Every canvas here is a real EXR written with OpenEXR (``lib_scene.exr.write_exr``) or one of the
sample renders in ``samples/room`` (skipped cleanly when ``samples/`` is absent).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image
from region_helpers import (
    colours_of,
    dilate8,
    rp_sections,
    side_with,
    write_index_exr,
)
from scenes import sidecar, write_blender4, write_blender5

from lib_scene import region_labels
from lib_scene import regions as R
from lib_scene.canvas import load_multilayer
from lib_scene.cli import main
from lib_scene.errors import PresetError
from lib_scene.palette import color_to_region, region_palette
from lib_scene.splits import Split, SplitPlan


@pytest.fixture
def synth(tmp_path):
    """The synthetic scene of tests/scenes.py with its sidecar: ball 1 (depth ~3.2-4), box 2 (3), wall 3 (8)."""
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(sidecar(), fh)
    return load_multilayer(path)


# --------------------------------------------------------------------------- mask


def test_mask_colours_are_exactly_the_first_k_palette_colours(synth):
    res = R.build_regions(synth)
    k = len(res.regions)
    assert k == 3
    assert res.mask.shape == (synth.height, synth.width, 3) and res.mask.dtype == np.uint8
    pal = {tuple(int(c) for c in px) for px in region_palette(k)}
    present = colours_of(res.mask)
    assert present - {(0, 0, 0)} == pal  # all k colours, nothing else but black
    assert [r.color for r in res.regions] == [tuple(int(c) for c in px) for px in region_palette(k)]
    # nearest first: box (depth 3) < ball (3..4) < wall (8)
    assert [r.indices for r in res.regions] == [(2,), (1,), (3,)]
    assert [r.description for r in res.regions] == ["a wooden box", "a red ball", "a green wall"]
    assert [r.objects for r in res.regions] == [("Box",), ("Ball",), ("Wall",)]
    assert res.regions[0].median_depth == pytest.approx(3.0)
    assert res.regions[2].median_depth == pytest.approx(8.0)
    # the sky (index 0, rows 0-3) is black, but for the 1-pixel seam growth into row 3
    assert (res.mask[:3] == 0).all() and (res.mask[3] != 0).any()


@pytest.mark.parametrize("grow", [0, 1, 3])
def test_region_pixels_are_their_indices_pixels_plus_seam_growth(synth, grow):
    res = R.build_regions(synth, grow=grow)
    ids = np.rint(synth.object_index).astype(int)
    assigned = np.isin(ids, [i for r in res.regions for i in r.indices])
    codes = color_to_region(res.mask, n=len(res.regions))
    for r in res.regions:
        own = np.isin(ids, r.indices)
        got = codes == r.number
        assert (got & own).sum() == own.sum(), "a region lost some of its own pixels"
        extra = got & ~own
        assert not (extra & assigned).any(), "growth painted over another region"
        assert not (extra & ~dilate8(own, grow)).any(), "growth went further than grow pixels"
        if grow == 0:
            assert np.array_equal(got, own)
        assert (res.labels == r.number).sum() == got.sum()
    # growth does happen into the unassigned sky next to the objects
    if grow:
        assert (codes >= 0).sum() > assigned.sum()


def test_no_pixel_outside_palette_or_black(synth):
    res = R.build_regions(synth, grow=2)
    codes = color_to_region(res.mask, n=len(res.regions))
    black = (res.mask == 0).all(-1)
    assert ((codes >= 0) | black).all()
    assert not ((codes >= 0) & black).any()


def test_seam_closes_towards_the_nearest_region(tmp_path):
    # two objects separated by a one-pixel unassigned seam (index 0): grow 1 closes it;
    # each seam pixel is reached by both in the same pass, and the nearer region (number 0) wins
    idx = np.zeros((20, 21), np.float32)
    idx[:, :10] = 1
    idx[:, 11:] = 2
    depth = np.where(idx == 1, 2.0, 6.0).astype(np.float32)
    cs = load_multilayer(write_index_exr(tmp_path / "s.exr", idx, depth))
    res = R.build_regions(cs, grow=1)
    assert [r.indices for r in res.regions] == [(1,), (2,)]
    assert (res.labels[:, 10] == 0).all()
    assert (res.labels >= 0).all()
    far = R.build_regions(cs, grow=0)
    assert (far.labels[:, 10] == -1).all()


def test_growth_is_identical_with_and_without_opencv(monkeypatch):
    rng = np.random.default_rng(3)
    lab = rng.integers(0, 6, (57, 83)).astype(np.uint16)
    lab[rng.random(lab.shape) < 0.7] = 65535
    pytest.importorskip("cv2")
    monkeypatch.setattr(region_labels, "CV2_MIN_PIXELS", 0)  # opencv even for this small canvas
    assert region_labels.cv2_for(lab.size) is not None
    with_cv = R.grow_regions(lab, 3)
    monkeypatch.setattr(region_labels, "cv2_or_none", lambda: None)
    without = R.grow_regions(lab, 3)
    assert np.array_equal(with_cv, without)
    assert (with_cv[lab != 65535] == lab[lab != 65535]).all()


def test_mask_png_is_lossless_and_canvas_sized(synth, tmp_path):
    cam = os.path.dirname(synth.sources["depth"])
    out = tmp_path / "out"
    assert main(["regions", cam, "--out", str(out), "--base-prompt", "photo"]) == 0
    png = np.asarray(Image.open(out / "Cam0.regions.png").convert("RGB"))
    res = R.build_regions(synth)
    assert np.array_equal(png, res.mask)


# --------------------------------------------------------------------------- descriptions & grouping


def test_two_objects_sharing_a_description_form_one_region(tmp_path):
    idx = np.zeros((30, 40), np.float32)
    idx[5:15, 2:12] = 1  # chair A
    idx[5:15, 25:35] = 2  # chair B, another pass index, same description
    idx[20:28, 10:30] = 3
    depth = np.select([idx == 1, idx == 2, idx == 3], [3.0, 4.0, 2.0], 9.0).astype(np.float32)
    objs = {
        "Chair_A": {"pass_index": 1, "Description": "a wooden chair", "location": [0, 0, -3]},
        "Chair_B": {"pass_index": 2, "Description": "a wooden chair", "location": [1, 0, -4]},
        "Rug": {"pass_index": 3, "Description": "a red rug", "location": [0, -1, -2]},
    }
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx, depth, side=side_with(objs)))
    res = R.build_regions(cs, grow=0)
    assert len(res.regions) == 2
    chair = next(r for r in res.regions if r.description == "a wooden chair")
    assert chair.indices == (1, 2) and chair.objects == ("Chair_A", "Chair_B")
    assert chair.pixels == int(np.isin(idx, [1, 2]).sum())
    assert np.array_equal(res.labels == chair.number, np.isin(idx, [1, 2]))
    assert [r.description for r in res.regions] == ["a red rug", "a wooden chair"]
    prompt = R.build_prompt("", res)
    assert prompt.text.count("a wooden chair") == 1


def test_objects_sharing_a_pass_index_are_one_region_with_both_names(tmp_path):
    idx = np.zeros((10, 10), np.float32)
    idx[2:8, 2:8] = 4
    objs = {
        "Chair_A": {"pass_index": 4, "Description": "a chair"},
        "Chair_B": {"pass_index": 4, "Description": "a chair"},
    }
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx, side=side_with(objs)))
    (reg,) = R.build_regions(cs).regions
    assert reg.indices == (4,) and reg.objects == ("Chair_A", "Chair_B") and reg.description == "a chair"


def test_properties_file_with_continuations_escapes_and_several_names(tmp_path):
    p = tmp_path / "d.properties"
    p.write_text(
        "# comment\n! also a comment\ncamera = Cam0\n"
        "objects.1.index = 3\n"
        "objects.1.description = a grey \\\n    fabric sofa\n"
        "objects.1.name = Sofa,Sofa.001\n"
        "objects.1.distance: 2.5\n"
        "objects.2.description = caf\\u00e9 table\n"
        "objects.2.name Table\n"
        "render.samples = 24\n",
        encoding="utf-8",
    )
    d = R.load_descriptions(p)
    assert d.text == {3: "a grey fabric sofa", 2: "café table"}
    assert d.names == {3: ("Sofa", "Sofa.001"), 2: ("Table",)}
    assert d.distances == {3: 2.5}
    assert d.camera == "Cam0"


def test_json_and_text_descriptions(tmp_path):
    j = tmp_path / "x.json"
    j.write_text(
        json.dumps(side_with({"A": {"pass_index": 2, "Description": "a lamp", "location": [3, 4, 0]}}))
    )
    d = R.load_descriptions(j)
    assert d.text == {2: "a lamp"} and d.names == {2: ("A",)} and d.distances[2] == pytest.approx(5.0)
    t = tmp_path / "x.txt"
    t.write_text("# scene\n1 = a red ball\n\n 2= a box = with equals\nWall = a green wall\n")
    d = R.load_descriptions(t)
    assert d.text == {1: "a red ball", 2: "a box = with equals"} and d.by_name == {"Wall": "a green wall"}
    m = tmp_path / "plain.json"
    m.write_text(json.dumps({"1": "a ball", "2": "a box"}))
    assert R.load_descriptions(m).text == {1: "a ball", 2: "a box"}


@pytest.mark.parametrize(
    "name, body, needle",
    [
        ("bad.txt", "1 = ok\nno equals sign here\n", "line 2"),
        ("bad2.txt", "1.5 = half an index\n", "whole number"),
        ("bad.json", "{not json", "not valid JSON"),
        ("bad.properties", "objects.1.index = one\n", "line 1"),
    ],
)
def test_malformed_description_files_name_the_file_and_line(tmp_path, name, body, needle):
    p = tmp_path / name
    p.write_text(body)
    with pytest.raises(PresetError) as exc:
        R.load_descriptions(p)
    assert str(p) in str(exc.value) and needle in str(exc.value)


def test_description_file_naming_unknown_indices_warns(synth, tmp_path):
    t = tmp_path / "d.txt"
    t.write_text("1 = a red ball\n2 = a wooden box\n3 = a green wall\n42 = a ghost\nGhostObject = boo\n")
    res = R.build_regions(synth, descriptions=R.load_descriptions(t))
    assert [r.description for r in res.regions] == ["a wooden box", "a red ball", "a green wall"]
    assert any("pass index 42" in w for w in res.warnings)
    assert any("GhostObject" in w for w in res.warnings)
    assert any(h.index == 42 and h.reason == "not in frame" for h in res.hidden)
    # the same unknown index from a .properties file
    p = tmp_path / "d.properties"
    p.write_text("objects.1.index = 42\nobjects.1.description = a ghost\nobjects.1.name = Ghost\n")
    res = R.build_regions(synth, descriptions=R.load_descriptions(p))
    assert any("pass index 42 (Ghost)" in w for w in res.warnings)
    # missing descriptions fall back to the sidecar's object names, with a warning
    assert [r.description for r in res.regions] == ["a wooden box", "a red ball", "a green wall"]


def test_missing_descriptions_fall_back_to_names_then_object_n(tmp_path):
    idx = np.zeros((20, 20), np.float32)
    idx[:10] = 1
    idx[10:] = 2
    depth = np.where(idx == 1, 1.0, 2.0).astype(np.float32)
    objs = {"Teapot": {"pass_index": 1}}  # no description; index 2 unknown to the sidecar
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx, depth, side=side_with(objs)))
    res = R.build_regions(cs)
    assert [r.description for r in res.regions] == ["Teapot", "object 2"]
    assert sum("has no description" in w for w in res.warnings) == 2


# --------------------------------------------------------------------------- visibility & order


def test_visibility_threshold_and_hidden_indices(tmp_path):
    idx = np.zeros((100, 100), np.float32)
    idx[:50] = 1  # 50 %
    idx[60:61, :50] = 2  # 0.5 % exactly: not visible (coverage must be > threshold)
    idx[70:71, :51] = 3  # 0.51 %
    cs = load_multilayer(write_index_exr(tmp_path / "c.exr", idx))
    res = R.build_regions(cs)
    assert sorted(i for r in res.regions for i in r.indices) == [1, 3]
    assert [(h.index, h.reason) for h in res.hidden] == [(2, "below threshold")]
    assert (res.labels[60, :50] != -1).sum() == 0 or R.build_regions(cs, grow=0).labels[60, 5] == -1
    assert (R.build_regions(cs, grow=0).labels[60, :50] == -1).all()
    low = R.build_regions(cs, threshold=0.001)
    assert sorted(i for r in low.regions for i in r.indices) == [1, 2, 3]
    with pytest.raises(R.RegionError):
        R.build_regions(cs, threshold=1.5)


def test_order_by_depth_is_occlusion_aware_and_distance_uses_sidecar(tmp_path):
    # object 1's origin is nearest, but what the camera sees of it is far (median depth 9)
    idx = np.zeros((20, 20), np.float32)
    idx[:, :10] = 1
    idx[:, 10:] = 2
    depth = np.where(idx == 1, 9.0, 4.0).astype(np.float32)
    objs = {
        "Near": {"pass_index": 1, "Description": "near origin", "location": [0, 0, -1]},
        "Far": {"pass_index": 2, "Description": "far origin", "location": [0, 0, -5]},
    }
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx, depth, side=side_with(objs)))
    assert [r.indices for r in R.build_regions(cs).regions] == [(2,), (1,)]
    by_dist = R.build_regions(cs, order="distance")
    assert [r.indices for r in by_dist.regions] == [(1,), (2,)]
    assert [r.distance for r in by_dist.regions] == [pytest.approx(1.0), pytest.approx(5.0)]
    # explicit distances (properties) win over locations, unless measured from another camera
    p = tmp_path / "d.properties"
    p.write_text(
        "camera = Cam0\nobjects.1.index = 1\nobjects.1.distance = 7\nobjects.2.index = 2\nobjects.2.distance = 3\n"
    )
    d = R.load_descriptions(p)
    assert [r.indices for r in R.build_regions(cs, d, order="distance").regions] == [(2,), (1,)]
    other = R.build_regions(cs, R.Descriptions(distances={1: 7.0, 2: 3.0}, camera="Cam9"), order="distance")
    assert [r.indices for r in other.regions] == [(1,), (2,)]
    assert any("measured from camera 'Cam9'" in w for w in other.warnings)


# --------------------------------------------------------------------------- sources


def _aov_scene():
    """Value AOV with antialiased edges: background 0, object 2 square with 1.375 blend pixels
    (rint -> 1, a wrong id), objects 1 and 3 meeting along a one-pixel blend of exactly 2.0."""
    h, w = 40, 60
    v = np.zeros((h, w), np.float32)
    truth = np.zeros((h, w), np.int32)
    truth[5:15, 5:15] = 2
    v[5:15, 5:15] = 2
    v[4, 4:16] = v[15, 4:16] = 1.375  # blend of 2 with background
    v[4:16, 4] = v[4:16, 15] = 0.625
    truth[20:35, 10:30] = 1
    truth[20:35, 30:50] = 3
    v[20:35, 10:30] = 1
    v[20:35, 30:50] = 3
    v[20:35, 30] = 2.0  # 50/50 blend of 1 and 3: a whole number, yet no object's id
    v[19, 10:50] = 0.5
    v[30, 40] = 2.999  # within tolerance: trusted as 3
    return v, truth


@pytest.mark.parametrize("opencv", [True, False])
def test_aov_edge_case(tmp_path, monkeypatch, opencv):
    if not opencv:
        monkeypatch.setattr(region_labels, "cv2_or_none", lambda: None)
    v, truth = _aov_scene()
    depth = np.where(truth == 1, 3.0, np.where(truth == 3, 5.0, np.where(truth == 2, 4.0, 9.0))).astype(
        np.float32
    )
    cs = load_multilayer(write_index_exr(tmp_path / "a.exr", None, depth, aovs={"IndexAOV": v}))
    assert cs.object_index is None and "IndexAOV" in cs.aovs
    assert R.pick_source(cs) == "aov:IndexAOV"  # auto picks an index-named AOV
    ids, filled = R.clean_index_aov(cs.aovs["IndexAOV"])
    # naive rounding invents id 1 on object 2's border and id 2 on the 1|3 seam
    assert (np.rint(v)[4, 5:15] == 1).all() and (np.rint(v)[20:35, 30] == 2).all()
    assert not (ids[4, 5:15] == 1).any()
    assert set(np.unique(ids[4, 5:15])) <= {0, 2}
    assert set(np.unique(ids[21:34, 30])) <= {1, 3}  # the ends may also reach the background (0)
    assert not (ids[20:35, 30] == 2).any()
    assert ids[30, 40] == 3
    # every whole-number pixel off the seam keeps its value (corner pixels next to blends may be
    # re-derived, from their own kind); only blends change
    trusted = np.abs(v - np.rint(v)) <= 0.01
    trusted[20:35, 30] = False
    assert np.array_equal(ids[trusted], np.rint(v[trusted]).astype(int))
    assert filled >= int((~trusted).sum())
    res = R.build_regions(cs, source="aov:indexaov", grow=0)
    assert sorted(r.indices for r in res.regions) == [(1,), (2,), (3,)]
    assert [r.indices for r in res.regions] == [(1,), (2,), (3,)]  # depth 3, 4, 5
    assert any("antialiased" in w for w in res.warnings)
    # region 2 (object 2) never appears along the 1|3 seam
    two = next(r.number for r in res.regions if r.indices == (2,))
    assert not (res.labels[20:35, 30] == two).any()


def test_aov_fill_takes_the_nearest_trusted_value(monkeypatch):
    rng = np.random.default_rng(7)
    vals = rng.integers(0, 5, (30, 40)).astype(np.float32)
    vals = np.repeat(np.repeat(vals[::5, ::5], 5, 0), 5, 1)[:30, :40]  # 5x5 blocks
    bad = rng.random(vals.shape) < 0.15
    noisy = np.where(bad, vals + 0.37, vals).astype(np.float32)
    for use_cv in (True, False):
        if not use_cv:
            monkeypatch.setattr(region_labels, "cv2_or_none", lambda: None)
        ids, _ = R.clean_index_aov(noisy)
        ok = ~bad & ~region_labels._between_neighbours(noisy, 0.01)
        ty, tx = np.nonzero(ok)
        for y, x in zip(*np.nonzero(~ok), strict=True):
            d = np.hypot(ty - y, tx - x)
            near = d <= d.min() * 1.5 + 1e-9  # nearest or nearly (approximate transforms)
            assert ids[y, x] in set(vals[ty[near], tx[near]].astype(int))


def test_aov_with_no_trusted_pixel_gives_no_regions(tmp_path):
    v = np.full((16, 16), 0.5, np.float32)
    cs = load_multilayer(write_index_exr(tmp_path / "a.exr", None, aovs={"IndexAOV": v}))
    res = R.build_regions(cs, source="aov:IndexAOV")
    assert res.regions == () and not res.mask.any()


def test_material_source_and_unknown_sources(tmp_path):
    mat = np.zeros((10, 10), np.float32)
    mat[:, :5] = 7
    idx = np.ones((10, 10), np.float32)
    side = side_with({"A": {"pass_index": 1, "Description": "object desc"}})
    side["materials"] = {"Red": {"pass_index": 7, "Description": "red paint"}}
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx, material=mat, side=side))
    res = R.build_regions(cs, source="material")
    assert res.source == "material" and [r.description for r in res.regions] == ["red paint"]
    assert R.build_regions(cs).source == "index"
    with pytest.raises(R.RegionError, match="no AOV 'nope'"):
        R.build_regions(cs, source="aov:nope")
    with pytest.raises(R.RegionError, match="unknown index source"):
        R.build_regions(cs, source="colour")
    with pytest.raises(R.RegionError, match="split plan"):
        R.build_regions(cs, source="splits")


def test_splits_regions_use_the_same_path(synth):
    plan = SplitPlan(
        (
            Split(2.0, 3.5, 100, label="front things", region=0),
            Split(3.5, 6.0, 100, region=5),
            Split(6.0, 9.0, 56, label="the wall", region=1),
        )
    )
    res = R.build_regions(synth, R.Descriptions(text={5: "a red ball"}), source="splits", splits=plan, grow=0)
    assert res.source == "splits"
    assert [r.description for r in res.regions] == ["front things", "a red ball", "the wall"]
    assert [r.indices for r in res.regions] == [(0,), (5,), (1,)]
    from lib_scene.depth import split_region_labels

    lab = split_region_labels(synth.depth, synth.hit, plan)
    for r in res.regions:
        assert np.array_equal(res.labels == r.number, np.isin(lab, r.indices))
    assert colours_of(res.mask) - {(0, 0, 0)} == {tuple(map(int, c)) for c in region_palette(3)}
    # auto picks the splits when they carry region flags, the index pass otherwise
    assert R.pick_source(synth, "auto", plan) == "splits"
    assert R.pick_source(synth, "auto", SplitPlan.single(2.0, 9.0)) == "index"
    assert R.pick_source(synth, "auto", None) == "index"


def test_cli_splits_preset_makes_the_regions(synth, tmp_path):
    preset = tmp_path / "p.json"
    preset.write_text(
        json.dumps(
            {
                "version": 1,
                "splits": [
                    {"start": 2.0, "end": 5.0, "levels": 200, "region": 0, "label": "the props"},
                    {"start": 5.0, "end": 9.0, "levels": 56, "region": 1, "label": "the wall"},
                ],
            }
        )
    )
    out = tmp_path / "out"
    assert main(["regions", synth.sources["depth"], "--splits", str(preset), "--out", str(out)]) == 0
    table = json.loads((out / "Cam0.regions.json").read_text())
    assert table["source"] == "splits"
    assert (out / "Cam0.prompt.txt").read_text() == "BREAK the props BREAK the wall\n"


def test_no_index_source_is_a_clear_error(tmp_path):
    cs = load_multilayer(write_index_exr(tmp_path / "c.exr", depth=np.ones((8, 8), np.float32)))
    with pytest.raises(R.RegionError) as exc:
        R.build_regions(cs)
    assert "no object or material index pass" in str(exc.value) and str(tmp_path / "c.exr") in str(exc.value)


def test_blender4_layout(tmp_path):
    path = write_blender4(str(tmp_path / "Cam0.exr"))
    res = R.build_regions(load_multilayer(path))
    assert [r.indices for r in res.regions] == [(2,), (1,), (3,)]


# --------------------------------------------------------------------------- prompts


def test_regional_and_flat_prompts(synth):
    res = R.build_regions(synth)
    p = R.build_prompt("masterpiece, photo", res)
    assert p.text == "masterpiece, photo BREAK a wooden box BREAK a red ball BREAK a green wall"
    assert p.sections == ("masterpiece, photo", "a wooden box", "a red ball", "a green wall")
    assert rp_sections(p.text) == len(res.regions) + 1
    flat = R.build_prompt("masterpiece", res, form="flat")
    assert flat.text == "masterpiece, a wooden box, a red ball, a green wall"
    assert "BREAK" not in flat.text and flat.sections == (flat.text,)


def test_empty_base_keeps_the_base_section(synth):
    res = R.build_regions(synth)
    p = R.build_prompt("", res)
    assert p.text == "BREAK a wooden box BREAK a red ball BREAK a green wall"
    assert p.sections[0] == "" and len(p.sections) == 4
    assert len(p.text.split("BREAK")) == len(res.regions) + 1
    assert R.build_prompt(None, res, form="flat").text == "a wooden box, a red ball, a green wall"


def test_keyword_injection_is_neutralised(tmp_path):
    idx = np.zeros((20, 30), np.float32)
    idx[:, :10], idx[:, 10:20], idx[:, 20:] = 1, 2, 3
    depth = (idx * 1.0).astype(np.float32)
    objs = {
        "A": {"pass_index": 1, "Description": "a chair BREAK a table AND ADDBASE\nADDCOMM ADDCOL ADDROW"},
        "B": {"pass_index": 2, "Description": "a SANDWICH on a BREAKFAST plate, ADDPLANT addp"},
        "C": {"pass_index": 3, "Description": "a lamp (glowing\r\n"},
    }
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx, depth, side=side_with(objs)))
    res = R.build_regions(cs)
    descs = [r.description for r in res.regions]
    assert descs[0] == "a chair break a table and addbase addcomm addcol addrow"
    assert descs[1] == "a SandWICH on a breakFAST plate, ADD-PLANT add-p"  # keyword substrings only
    assert descs[2] == "a lamp \\(glowing"
    assert sum("neutralised" in w for w in res.warnings) == 2
    assert any("unbalanced brackets" in w for w in res.warnings)
    p = R.build_prompt("best quality AND more BREAK", res)
    assert any("base prompt" in w for w in p.warnings)
    assert p.text.count("BREAK") == 3 and rp_sections(p.text) == 4 == len(res.regions) + 1
    for s in p.sections:
        assert not any(k in s for k in R.RP_KEYWORDS) and "ADDP" not in s.upper() and "\n" not in s
    # direct strings are sanitised too
    direct = R.build_prompt("", ["x BREAK y", "z"])
    assert direct.sections == ("", "x break y", "z") and direct.warnings


def test_sanitize_description():
    w: list[str] = []
    assert R.sanitize_description("  a\tb\n\nc  ", w) == "a b c" and w == []
    assert R.sanitize_description("(a:1.2) [b]", w) == "(a:1.2) [b]" and w == []
    assert R.sanitize_description("ANDROID BREAKS ANDAND", w) == "andROID breakS andand"
    assert len(w) == 1
    assert R.sanitize_description("band and brand") == "band and brand"  # lower case is harmless


def test_index_pass_with_no_visible_object(tmp_path, capsys):
    idx = np.zeros((50, 50), np.float32)
    idx[0, :5] = 3  # 0.2 %: below the threshold
    cs = load_multilayer(write_index_exr(tmp_path / "Cam0.exr", idx))
    res = R.build_regions(cs)
    assert res.regions == () and not res.mask.any() and (res.labels == -1).all()
    assert any("no object covers more than 0.5% of the frame" in w and "all black" in w for w in res.warnings)
    p = R.build_prompt("a quiet room", res)
    assert p.text == "a quiet room" and p.sections == ("a quiet room",)
    assert rp_sections(p.text) == 1
    out = tmp_path / "out"
    assert (
        main(["regions", str(tmp_path / "Cam0.exr"), "--base-prompt", "a quiet room", "--out", str(out)]) == 0
    )
    said = capsys.readouterr().out
    assert "no regions: plain prompt, all-black mask" in said
    assert (out / "Cam0.prompt.txt").read_text() == "a quiet room\n"
    assert not np.asarray(Image.open(out / "Cam0.regions.png")).any()
    table = json.loads((out / "Cam0.regions.json").read_text())
    assert table["regions"] == [] and table["hidden"][0]["index"] == 3


# --------------------------------------------------------------------------- CLI


def test_cli_writes_three_files_per_camera(tmp_path, capsys):
    for cam in ("Cam0", "Cam1"):
        write_blender5(str(tmp_path / f"{cam}.exr"))
        with open(tmp_path / f"{cam}.json", "w") as fh:
            json.dump(sidecar(cam), fh)
    out = tmp_path / "out"
    rc = main(
        [
            "regions",
            str(tmp_path),
            "--out",
            str(out),
            "--base-prompt",
            "photo",
            "--grow",
            "2",
            "--form",
            "flat",
        ]
    )
    assert rc == 0
    for cam in ("Cam0", "Cam1"):
        assert (out / f"{cam}.prompt.txt").read_text() == "photo, a wooden box, a red ball, a green wall\n"
        table = json.loads((out / f"{cam}.regions.json").read_text())
        assert table["camera"] == cam and table["grow"] == 2
        assert [r["indices"] for r in table["regions"]] == [[2], [1], [3]]
        assert table["regions"][0]["color"] == [128, 64, 64] and table["regions"][0]["color_hex"] == "#804040"
        assert {"number", "color", "indices", "objects", "description", "coverage", "median_depth"} <= set(
            table["regions"][0]
        )
    # explicit descriptions, threshold and order
    d = tmp_path / "d.txt"
    d.write_text("1 = BALL\n2 = BOX\n3 = WALL\n")
    rc = main(
        [
            "regions",
            str(tmp_path / "Cam0.exr"),
            "--descriptions",
            str(d),
            "--order",
            "distance",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert (out / "Cam0.prompt.txt").read_text() == "BREAK BALL BREAK BOX BREAK WALL\n"
    # bad option -> exit code 2 with the message
    assert main(["regions", str(tmp_path / "Cam0.exr"), "--source", "aov:zzz", "--out", str(out)]) == 2
    assert "no AOV 'zzz'" in capsys.readouterr().err


def test_cli_refuses_to_write_over_inputs(tmp_path, capsys):
    write_blender5(str(tmp_path / "Cam0.exr"))
    with open(tmp_path / "Cam0.json", "w") as fh:
        json.dump(sidecar(), fh)
    before = (tmp_path / "Cam0.json").read_bytes()
    # --out equal to the input folder is fine (new names) ...
    assert main(["regions", str(tmp_path), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "Cam0.json").read_bytes() == before
    assert (tmp_path / "Cam0.regions.png").is_file()


def test_seams_grow_the_same_in_blocks_of_rows(monkeypatch):
    """regions._grow_pass works in blocks of rows: any block height gives the whole-canvas result."""
    from lib_scene import blocks

    rng = np.random.default_rng(5)
    lab = np.full((37, 23), 65535, np.uint16)
    pick = rng.random(lab.shape) < 0.08
    lab[pick] = rng.integers(0, 6, int(pick.sum()))
    ref = R.grow_regions(lab, 4)
    for block in (1, 23, 46, 23 * 5 + 3, 10_000):
        monkeypatch.setattr(blocks, "BLOCK", block)
        np.testing.assert_array_equal(R.grow_regions(lab, 4), ref)
        np.testing.assert_array_equal(R.grow_regions(lab.copy(), 4, in_place=True), ref)
    # and the reference is the plain full-canvas definition: 8-neighbour minimum into free pixels
    want = lab.copy()
    for _ in range(4):
        p = np.pad(want, 1, constant_values=65535)
        m = np.min([p[dy : dy + 37, dx : dx + 23] for dy in range(3) for dx in range(3)], axis=0)
        want = np.where((want == 65535) & (m != 65535), m, want)
    np.testing.assert_array_equal(ref, want)
