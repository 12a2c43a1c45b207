"""Regions on the sample renders, exact internals and the files other tools read (split from
test_regions.py). Real EXRs and the sample renders in ``samples/room`` (skipped when absent)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import SAMPLES
from PIL import Image
from region_helpers import ROOM, colours_of, needs_room, rp_sections, write_index_exr
from scenes import sidecar, write_blender5

from lib_scene import region_labels
from lib_scene import regions as R
from lib_scene.canvas import discover, load_camera, load_multilayer
from lib_scene.cli import main
from lib_scene.exr import read_exr
from lib_scene.palette import color_to_region, region_palette
from lib_scene.splits import Split, SplitPlan

# --------------------------------------------------------------------------- sample renders


def _sample_truth(path: str, threshold: float):
    """Independent reference: visible pass indices of a sample camera, nearest first."""
    img = read_exr(path)
    idx = next(c.pixels for n, c in img.channels.items() if n.endswith("Object Index.X"))
    depth = next(c.pixels for n, c in img.channels.items() if n.endswith("Depth.Z"))
    ids = np.rint(idx).astype(int)
    vis = []
    for i in np.unique(ids):
        if i <= 0:
            continue
        m = ids == i
        if m.sum() / m.size > threshold:
            d = depth[m & (depth < 1e9)]
            vis.append((float(np.median(d)), int(i)))
    return [i for _, i in sorted(vis)], ids


@needs_room
@pytest.mark.parametrize("cam", ["Cam0", "Cam1", "Cam2"])
def test_samples_prompt_lists_exactly_the_visible_objects_nearest_first(cam):
    path = os.path.join(ROOM, f"{cam}.exr")
    cs = load_multilayer(path)
    assert cs.sidecar is not None
    res = R.build_regions(cs, grow=0)
    order, ids = _sample_truth(path, 0.005)
    # each region is one pass index here except shared descriptions; expand in order
    got = [i for r in res.regions for i in r.indices]
    assert sorted(got) == sorted(order)
    side = {o["pass_index"]: o["Description"] for o in cs.sidecar["objects"].values()}
    groups = {}
    for i in order:
        groups.setdefault(side[i], []).append(i)
    assert [r.description for r in res.regions] == list(dict.fromkeys(side[i] for i in order))
    prompt = R.build_prompt("a photo of a room", res)
    assert prompt.sections[1:] == tuple(r.description for r in res.regions)
    assert rp_sections(prompt.text) == len(res.regions) + 1
    k = len(res.regions)
    assert colours_of(res.mask) - {(0, 0, 0)} == {tuple(map(int, c)) for c in region_palette(k)}
    for r in res.regions:
        assert np.array_equal(res.labels == r.number, np.isin(ids, r.indices))
    grown = R.build_regions(cs)
    codes = color_to_region(grown.mask, n=k)
    assert ((codes >= 0) | (grown.mask == 0).all(-1)).all()


@needs_room
def test_samples_hidden_object_absent_in_one_camera_present_in_others():
    # the vase stands under the table: Cam2 looks steeply down and the table top hides it;
    # Cam0 and Cam1 see it above the default visibility threshold (0.5 %)
    seen = {}
    for cam in ("Cam0", "Cam1", "Cam2"):
        cs = load_multilayer(os.path.join(ROOM, f"{cam}.exr"))
        vase = cs.sidecar["objects"]["Vase"]
        res = R.build_regions(cs)
        prompt = R.build_prompt("", res)
        seen[cam] = any(vase["pass_index"] in r.indices for r in res.regions)
        assert seen[cam] == (vase["Description"] in prompt.text)
        if not seen[cam]:
            assert any(h.index == vase["pass_index"] and h.reason == "not in frame" for h in res.hidden)
    assert seen == {"Cam0": True, "Cam1": True, "Cam2": False}


@needs_room
@pytest.mark.parametrize("cam", ["Cam0", "Cam1", "Cam2"])
def test_samples_order_by_distance_follows_the_sidecar(cam):
    cs = load_multilayer(os.path.join(ROOM, f"{cam}.exr"))
    res = R.build_regions(cs, order="distance")
    cam_pos = np.asarray(cs.sidecar["matrix_world"], float)[:3, 3]
    best = {}
    for o in cs.sidecar["objects"].values():
        d = float(np.linalg.norm(np.asarray(o["location"], float) - cam_pos))
        best[o["pass_index"]] = min(d, best.get(o["pass_index"], np.inf))
    dists = [min(best[i] for i in r.indices) for r in res.regions]
    assert dists == sorted(dists)
    assert [r.distance for r in res.regions] == pytest.approx(dists, abs=1e-3)
    # the seed's .properties distances were measured from Cam0 only
    props = R.load_descriptions(os.path.join(ROOM, "descriptions.properties"))
    again = R.build_regions(cs, props, order="distance")
    assert [r.indices for r in again.regions] == [r.indices for r in res.regions]
    assert any("measured from camera" in w for w in again.warnings) == (cam != props.camera)


@needs_room
def test_samples_shared_pass_index_and_description_files():
    cs = load_multilayer(os.path.join(ROOM, "Cam0.exr"))
    res = R.build_regions(cs)
    chairs = [r for r in res.regions if r.description == "a simple wooden chair"]
    assert len(chairs) == 1 and set(chairs[0].objects) == {"Chair_A", "Chair_B"}
    props = R.load_descriptions(os.path.join(ROOM, "descriptions.properties"))
    text = R.load_descriptions(os.path.join(ROOM, "descriptions.txt"))
    assert props.text == text.text == R.descriptions_from_sidecar(cs.sidecar).text
    for d in (props, text):
        other = R.build_regions(cs, descriptions=d)
        for a, b in zip(other.table(), res.table(), strict=True):
            assert a.pop("distance") == pytest.approx(b.pop("distance"), abs=1e-3)
            assert a == b
        assert not [w for w in other.warnings if "pass index" in w]


@needs_room
def test_samples_cli_and_daz_set_without_index(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["regions", ROOM, "--out", str(out), "--base-prompt", "photo"]) == 0
    for cam in ("Cam0", "Cam1", "Cam2"):
        text = (out / f"{cam}.prompt.txt").read_text()
        table = json.loads((out / f"{cam}.regions.json").read_text())
        assert text.startswith("photo BREAK ") and text.count("BREAK") == len(table["regions"])
    daz = os.path.join(SAMPLES, "room_daz")
    if os.path.isdir(daz) and not any(s.layout == "exr" for s in discover(daz)):
        cs = load_camera(discover(daz)[0])
        if cs.object_index is None and cs.material_index is None:
            with pytest.raises(R.RegionError, match="no object or material index pass"):
                R.build_regions(cs)


# --------------------------------------------------------------------------- internals with exact references


@pytest.mark.parametrize("n", [6, 12])  # a boolean pick per group / one sort by group
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_medians_are_exact(seed, n):
    rng = np.random.default_rng(seed)
    h, w = 70, 90
    groups = rng.integers(0, n + 1, (h, w)).astype(np.uint16)  # n = no group
    depth = rng.choice(np.array([1.0, 2.5, 2.5, 3.0, 7.25, 40.0], np.float32), (h, w))
    depth += rng.normal(0, 1e-3, (h, w)).astype(np.float32) * (rng.random((h, w)) < 0.5)
    hit = rng.random((h, w)) < 0.9
    groups[groups == 4] = n  # group 4 has no pixels at all
    hit[groups == 5] = False  # group 5 has pixels but no hits
    got = R._group_medians(groups, depth, hit, n)
    for g in range(n):
        sel = (groups == g) & hit
        if not sel.any():
            assert got[g] is None
        else:
            assert got[g] == pytest.approx(float(np.median(depth[sel].astype(np.float64))), abs=0, rel=1e-7)


def test_huge_index_values_are_compacted(tmp_path):
    idx = np.zeros((10, 10), np.float32)
    idx[:5] = 5_000_000  # beyond a bincount-friendly range, still a whole float32
    idx[5:] = 7
    cs = load_multilayer(write_index_exr(tmp_path / "big.exr", idx, np.where(idx == 7, 1.0, 2.0)))
    res = R.build_regions(cs, grow=0)
    assert [r.indices for r in res.regions] == [(7,), (5_000_000,)]
    assert np.array_equal(res.labels, np.where(idx == 7, 0, 1))


# --------------------------------------------------------------------------- the files other tools read


def test_region_table_and_files_have_an_exact_schema(tmp_path):
    from lib_scene.files import OutputBatch

    path = write_blender5(str(tmp_path / "Cam0.exr"))
    (tmp_path / "Cam0.json").write_text(json.dumps(sidecar()))
    cs = load_camera(discover([path])[0])
    res = R.build_regions(cs, threshold=0.1)  # the box (8.8 %) is hidden below 10 %
    d = res.to_dict()
    assert list(d) == ["camera", "width", "height", "source", "order", "threshold", "grow", "depth_unit",
                       "regions", "hidden", "warnings"]  # fmt: skip
    assert (d["camera"], d["width"], d["height"], d["source"], d["order"], d["threshold"], d["grow"]) == (
        "Cam0", 64, 48, "index", "depth", 0.1, 1)  # fmt: skip
    assert d["depth_unit"] == "scene" and d["warnings"] == list(res.warnings)
    r0, reg = d["regions"][0], res.regions[0]
    assert list(r0) == ["number", "color", "color_hex", "indices", "objects", "description", "coverage", "pixels",
                        "median_depth", "distance"]  # fmt: skip
    assert r0["color_hex"] == "#{:02x}{:02x}{:02x}".format(*reg.color) and r0["color"] == list(reg.color)
    assert (r0["indices"], r0["objects"], r0["description"], r0["pixels"]) == (
        [1],
        ["Ball"],
        "a red ball",
        reg.pixels,
    )
    for key in ("coverage", "median_depth", "distance"):  # six decimals, never more
        raw = getattr(reg, key)
        assert r0[key] == round(raw, 6) and round(raw, 6) != round(raw, 7)
    assert d["hidden"] == [
        {
            "index": 2,
            "coverage": round(res.hidden[0].coverage, 6),
            "objects": ["Box"],
            "reason": "below threshold",
        }
    ]
    assert round(res.hidden[0].coverage, 6) != round(res.hidden[0].coverage, 7)
    # <camera>.regions.png / .regions.json / .prompt.txt
    prompt = R.build_prompt("room", res)
    out = tmp_path / "out"
    batch = OutputBatch(protect=[path])
    written = R.region_outputs(cs, res, prompt, str(out), batch)
    batch.commit()
    assert [os.path.basename(p) for p in written] == [
        "Cam0.regions.png",
        "Cam0.regions.json",
        "Cam0.prompt.txt",
    ]
    text = (out / "Cam0.regions.json").read_text()
    data = json.loads(text)
    assert text.startswith('{\n  "camera": "Cam0"')  # indented for people
    assert data["prompt"] == {"form": "regional", "text": prompt.text, "sections": list(prompt.sections)}
    assert data["warnings"] == list(dict.fromkeys([*res.warnings, *prompt.warnings]))
    assert {k: v for k, v in data.items() if k not in ("prompt",)} == {**d, "warnings": data["warnings"]}
    assert (out / "Cam0.prompt.txt").read_text() == prompt.text + "\n"
    assert np.array_equal(np.asarray(Image.open(out / "Cam0.regions.png").convert("RGB")), res.mask)


def test_build_prompt_edge_cases():
    p = R.build_prompt("", ["", "  "])
    assert p.text == "BREAK region 0 BREAK region 1" and p.sections == ("", "region 0", "region 1")
    assert p.warnings == ("region 0 has an empty description; using 'region 0'",
                          "region 1 has an empty description; using 'region 1'")  # fmt: skip
    assert p.form == "regional" and R.build_prompt("a", [], form="flat").form == "flat"
    empty = R.build_prompt(None, [])
    assert empty.text == "" and empty.sections == ("",) and empty.warnings == ("the prompt is empty",)
    w = R.build_prompt("x AND y", ["a BREAK b"]).warnings
    assert w[0].startswith("base prompt held AND;") and w[1].startswith("region 0 held BREAK;")
    with pytest.raises(R.RegionError, match="prompt form must be one of regional, flat, got 'fancy'"):
        R.build_prompt("", [], form="fancy")


def _same_result(a: R.RegionResult, b: R.RegionResult) -> None:
    assert np.array_equal(a.mask, b.mask) and np.array_equal(a.labels, b.labels)
    assert a.to_dict() == b.to_dict()
    assert [r.median_depth for r in a.regions] == [r.median_depth for r in b.regions]  # unrounded


@pytest.mark.parametrize("source", ["auto", "material", "splits"])
def test_labels_at_a_preview_grid_are_the_whole_labels_sampled(source):
    """``grid=``: the labels at a preview grid's pixels (from their 3x3 neighbourhoods with kept
    stats, grow 0 or 1; sampled from the whole otherwise) are the whole labels sampled there, and
    the table, medians and warnings are the same, at every threshold, grow and grid size."""
    from lib_scene.preview import preview_grid

    for src in discover([ROOM, os.path.join(SAMPLES, "room_daz")]):
        cs = load_camera(src)
        splits = SplitPlan((Split(0.0, 4.0, 128, region=0), Split(4.0, 1e6, 128, region=1)))
        if source == "material" and cs.material_index is None:
            continue
        stats = region_labels.region_stats(cs, source, splits)
        for long_side in (97, 256, max(cs.width, cs.height)):
            g = preview_grid(cs.height, cs.width, long_side)
            for thr in (0.0, 0.01, 0.2):
                for grow in (0, 1, 2):
                    whole = R.build_regions(cs, source=source, threshold=thr, splits=splits, grow=grow)
                    for st in (stats, None):
                        at = R.build_regions(
                            cs, source=source, threshold=thr, splits=splits, grow=grow, stats=st,
                            grid=(g.ys, g.xs),
                        )  # fmt: skip
                        assert np.array_equal(at.labels, g.sample(whole.labels)), (long_side, thr, grow)
                        size = {"width": g.width, "height": g.height}  # the labels' size
                        assert at.to_dict() == {**whole.to_dict(), **size}
                        assert at.warnings == whole.warnings


def test_grow_at_reads_only_the_grid_neighbourhoods():
    """grow_at against the whole canvas grown once, on random labels with wide unassigned areas,
    grids touching every border."""
    from lib_scene.region_grow import grow_at, grow_regions

    rng = np.random.default_rng(7)
    for h, w in ((1, 1), (2, 9), (31, 17), (64, 64)):
        codes = rng.integers(0, 7, (h, w)).astype(np.int32)
        lut = np.array([65535, 0, 1, 2, 65535, 3, 65535], np.uint16)
        whole = grow_regions(np.take(lut, codes), 1)
        for ys, xs in ((np.arange(h), np.arange(w)), (np.array([0, h - 1]), np.array([w - 1, 0, w // 2]))):
            assert np.array_equal(grow_at(lut, codes, ys, xs), whole[ys][:, xs])


@pytest.mark.parametrize("source", ["auto", "material", "splits"])
def test_counted_once_stats_give_the_same_regions_at_every_threshold(source):
    """The tab counts a camera's labels and sorts their depths once, then re-thresholds: every
    mask, table, median and warning is the one a fresh build gives."""
    for src in discover([ROOM, os.path.join(SAMPLES, "room_daz")]):
        cs = load_camera(src)
        splits = SplitPlan((Split(0.0, 4.0, 128, region=0), Split(4.0, 1e6, 128, region=1)))
        if source == "material" and cs.material_index is None:
            continue
        stats = region_labels.region_stats(cs, source, splits)
        assert stats.depths is not None or cs.depth is None
        for thr in (0.0, 0.001, 0.01, 0.05, 0.2):
            for order in ("depth", "distance"):
                fresh = R.build_regions(cs, source=source, threshold=thr, order=order, splits=splits)
                again = R.build_regions(
                    cs, source=source, threshold=thr, order=order, splits=splits, stats=stats
                )
                _same_result(fresh, again)
        if source == "auto" and cs.object_index is not None:  # one description, several indices
            st = region_labels.region_stats(cs, "index")
            same = R.with_edits(None, {str(int(v)): "the same thing" for v in st.values}, source="test")
            fresh = R.build_regions(cs, same, source="index", threshold=0.0)
            assert any(len(r.indices) > 1 for r in fresh.regions)
            _same_result(fresh, R.build_regions(cs, same, source="index", threshold=0.0, stats=st))
