"""Cryptomatte as a region source: on the committed Blender 5.0.1 render samples/room_crypto (Cycles,
Cryptomatte Object with 6 levels, 192x144), and on small EXRs written here with OpenEXR.

The render was made by the real exporter:
    tools/blender/make_sample_room.py --out samples/room_crypto --cameras Cam0 --half-cameras "" \
        --resolution 192x144 --samples 8 --cryptomatte 6
"""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from conftest import ROOT, SAMPLES

from lib_scene.canvas import load_cameras
from lib_scene.cli import main
from lib_scene.cryptomatte import crypto_id, dominant_ids, object_codes
from lib_scene.descriptions import load_descriptions, name_as_description, with_edits
from lib_scene.errors import CanvasError, RegionError
from lib_scene.exr import write_exr
from lib_scene.params import PlanParams
from lib_scene.regions import build_regions, pick_source

ROOM = os.path.join(SAMPLES, "room_crypto")
LOW = 0.002  # Chair_B covers ~0.4% of this small frame


@pytest.fixture(scope="module")
def room():
    return load_cameras(ROOM)[0]


@pytest.fixture
def bare(tmp_path):
    """The same render without its sidecar: a plain Blender render with Cryptomatte."""
    shutil.copy(os.path.join(ROOM, "Cam0.exr"), tmp_path / "Cam0.exr")
    return load_cameras(str(tmp_path))[0]


def _layer(cs):
    assert list(cs.cryptomatte) == ["ViewLayer.CryptoObject"]
    return cs.cryptomatte["ViewLayer.CryptoObject"]


def test_manifest_ids_are_the_murmur3_hashes_of_the_names(room):
    layer = _layer(room)
    assert layer.levels == 6 and layer.hash == "MurmurHash3_32"
    assert {"Chair_A", "Chair_B", "Ball", "Table", "Floor"} <= set(layer.manifest)
    assert all(crypto_id(n) == v for n, v in layer.manifest.items())
    assert crypto_id("Chair_A") != crypto_id("Chair_B")


def test_dominant_object_agrees_with_the_object_index_pass(room):
    layer = _layer(room)
    codes, names, _ = object_codes(layer, dominant_ids(layer))
    side = room.sidecar["objects"]
    pass_of_code = np.zeros(max(names) + 1, dtype=np.int64)
    for code, name in names.items():
        pass_of_code[code] = side.get(name, {}).get("pass_index", 0)
    idx = np.rint(room.object_index).astype(np.int64)
    described = (codes > 0) & (pass_of_code[codes] > 0)
    agree = pass_of_code[codes][described] == idx[described]
    # the index pass takes sample 0, Cryptomatte the dominant coverage: only edges may differ
    assert agree.mean() > 0.97, agree.mean()
    assert described.sum() > 0.8 * codes.size


def test_chairs_share_a_pass_index_but_are_two_regions(room):
    side = room.sidecar["objects"]
    assert side["Chair_A"]["pass_index"] == side["Chair_B"]["pass_index"]
    by_index = build_regions(room, source="index", threshold=LOW)
    chairs = [r for r in by_index.regions if "Chair_A" in r.objects]
    assert len(chairs) == 1 and set(chairs[0].objects) == {"Chair_A", "Chair_B"}

    crypto = build_regions(room, source="cryptomatte", threshold=LOW)
    assert crypto.source == "cryptomatte"
    got = {r.objects[0]: r for r in crypto.regions if r.objects[0].startswith("Chair")}
    assert set(got) == {"Chair_A", "Chair_B"}
    assert got["Chair_A"].number != got["Chair_B"].number
    # the sidecar's description wins, matched by name, for both chairs
    assert got["Chair_A"].description == got["Chair_B"].description == side["Chair_A"]["Description"]
    a = crypto.labels == got["Chair_A"].number
    b = crypto.labels == got["Chair_B"].number
    assert a.any() and b.any() and not (a & b).any()
    # together the two chair regions cover about what the shared pass index covers
    shared = by_index.labels == chairs[0].number
    assert abs(int(a.sum() + b.sum()) - int(shared.sum())) <= 0.15 * shared.sum()
    # the chair nearer the camera (Chair_A) comes first
    assert got["Chair_A"].number < got["Chair_B"].number
    assert tuple(crypto.mask[a][0]) == got["Chair_A"].color


def test_with_a_sidecar_auto_keeps_the_index_pass_and_undescribed_objects_are_background(room):
    assert pick_source(room) == "index"
    crypto = build_regions(room, source="cryptomatte", threshold=LOW)
    described = set(room.sidecar["objects"])
    assert {o for r in crypto.regions for o in r.objects} <= described


def test_without_a_sidecar_auto_uses_cryptomatte_and_the_names(bare):
    assert bare.sidecar is None
    assert pick_source(bare) == "cryptomatte"
    res = build_regions(bare, threshold=LOW)
    assert res.source == "cryptomatte"
    texts = {r.objects[0]: r.description for r in res.regions}
    assert texts["Chair_A"] == "Chair A" and texts["Chair_B"] == "Chair B" and texts["Ball"] == "Ball"
    assert "Wall_Back" in texts  # no sidecar: every visible object is a region
    assert not any("has no description" in w for w in res.warnings)


def test_descriptions_by_name_and_by_region_number_win(room, tmp_path):
    plain = build_regions(room, source="cryptomatte", threshold=LOW)
    floor = next(r for r in plain.regions if r.objects == ("Floor",)).indices[0]
    f = tmp_path / "d.txt"
    f.write_text(f"Chair_B = a red lacquered chair\n{floor} = a dark slate floor\n", encoding="utf-8")
    res = build_regions(room, descriptions=load_descriptions(str(f)), source="cryptomatte", threshold=LOW)
    texts = {r.objects[0]: r.description for r in res.regions}
    assert texts["Chair_B"] == "a red lacquered chair"
    assert texts["Chair_A"] == "a simple wooden chair"  # the sidecar's
    assert texts["Floor"] == "a dark slate floor"  # the number the region table shows (the tab's edits)
    edited = with_edits(None, {str(floor): "marble"})
    res = build_regions(room, descriptions=edited, source="cryptomatte", threshold=LOW)
    assert next(r.description for r in res.regions if r.objects == ("Floor",)) == "marble"


def test_name_as_description():
    assert name_as_description("Chair_A") == "Chair A"
    assert name_as_description("Cube.001") == "Cube"
    assert name_as_description("_") == "_"


def test_cli_regions_with_cryptomatte(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["regions", ROOM, "--source", "cryptomatte", "--threshold", str(LOW), "--out", str(out)]) == 0
    data = json.loads((out / "Cam0.regions.json").read_text())
    assert data["source"] == "cryptomatte"
    objs = [r["objects"] for r in data["regions"]]
    assert ["Chair_A"] in objs and ["Chair_B"] in objs
    prompt = (out / "Cam0.prompt.txt").read_text()
    assert prompt.count("a simple wooden chair") == 2
    assert (
        main(["regions", ROOM, "--source", "cryptomatte:CryptoMaterial", "--out", str(tmp_path / "x")]) == 2
    )
    assert "no Cryptomatte layer 'CryptoMaterial'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["regions", ROOM, "--source", "cryptomatte:object", "--out", str(tmp_path / "y")]) == 0


def test_params_accept_cryptomatte_sources():
    assert PlanParams.from_dict({"regions": {"source": "Cryptomatte"}}).regions.source == "cryptomatte"
    p = PlanParams.from_dict({"regions": {"source": "cryptomatte:ViewLayer.CryptoObject"}})
    assert p.regions.source == "cryptomatte:ViewLayer.CryptoObject"


# --------------------------------------------------------------------------- written here


def _f(hexid: int) -> np.float32:
    return np.array([hexid], dtype=np.uint32).view(np.float32)[0]


def _write(path, ranks, manifest=None, half=False, name="ViewLayer.CryptoObject", extra=None):
    """ranks: list of (ids uint32 (H,W), coverage (H,W)), most coverage first."""
    h, w = ranks[0][0].shape
    chans = {"ViewLayer.Depth.Z": np.full((h, w), 3.0, np.float32)}
    while len(ranks) % 2:
        ranks = [*ranks, (np.zeros((h, w), np.uint32), np.zeros((h, w), np.float32))]
    for k in range(0, len(ranks), 2):
        (i0, c0), (i1, c1) = ranks[k], ranks[k + 1]
        dt = np.float16 if half else np.float32
        level = f"{name}{k // 2:02d}"
        chans[f"{level}.r"] = i0.view(np.float32).astype(dt)
        chans[f"{level}.g"] = c0.astype(dt)
        chans[f"{level}.b"] = i1.view(np.float32).astype(dt)
        chans[f"{level}.a"] = c1.astype(dt)
    header = {}
    if manifest is not None:
        header = {
            "cryptomatte/abc1234/name": name,
            "cryptomatte/abc1234/hash": "MurmurHash3_32",
            "cryptomatte/abc1234/conversion": "uint32_to_float32",
            "cryptomatte/abc1234/manifest": manifest
            if isinstance(manifest, str)
            else json.dumps({n: f"{crypto_id(n):08x}" for n in manifest}),
        }
    header.update(extra or {})
    write_exr(path, chans, header=header)
    return path


def test_each_pixel_takes_its_dominant_object_and_background_can_win(tmp_path):
    a, b = crypto_id("Lamp"), crypto_id("Desk")
    ids0 = np.array([[a, a, b, a]], np.uint32)
    cov0 = np.array([[1.0, 0.6, 0.5, 0.3]], np.float32)
    ids1 = np.array([[0, b, a, 0]], np.uint32)
    cov1 = np.array([[0.0, 0.4, 0.3, 0.0]], np.float32)
    p = _write(str(tmp_path / "c.exr"), [(ids0, cov0), (ids1, cov1)], manifest=["Lamp", "Desk"])
    cs = load_cameras(p)[0]
    layer = cs.cryptomatte["ViewLayer.CryptoObject"]
    # pixel 3: 0.3 Lamp against 0.7 background -> background
    assert dominant_ids(layer).tolist() == [[a, a, b, 0]]
    codes, names, warnings = object_codes(layer, dominant_ids(layer))
    assert names == {1: "Desk", 2: "Lamp"} and codes.tolist() == [[2, 2, 1, 0]] and not warnings


def test_ranks_out_of_order_still_pick_the_most_coverage(tmp_path):
    a, b = crypto_id("A"), crypto_id("B")
    one = np.ones((1, 2), np.float32)
    p = _write(
        str(tmp_path / "c.exr"),
        [(np.array([[a, a]], np.uint32), 0.2 * one), (np.array([[b, b]], np.uint32), 0.8 * one)],
        manifest=["A", "B"],
    )
    layer = load_cameras(p)[0].cryptomatte["ViewLayer.CryptoObject"]
    assert dominant_ids(layer).tolist() == [[b, b]]


def test_ids_missing_from_the_manifest_and_files_without_one(tmp_path):
    a, x = crypto_id("Known"), 0x4A000001
    ids = np.array([[a, x]], np.uint32)
    cov = np.ones((1, 2), np.float32)
    cs = load_cameras(_write(str(tmp_path / "m.exr"), [(ids, cov)], manifest=["Known"]))[0]
    res = build_regions(cs, source="cryptomatte", threshold=0)
    assert sorted(r.objects[0] for r in res.regions) == ["Known", "id 4a000001"]
    assert any("not in the manifest" in w for w in res.warnings)
    # no header at all: the rank channels are still found, objects are named by id
    cs = load_cameras(_write(str(tmp_path / "n.exr"), [(ids, cov)]))[0]
    res = build_regions(cs, source="cryptomatte", threshold=0)
    assert sorted(r.objects[0] for r in res.regions) == sorted([f"id {a:08x}", "id 4a000001"])
    assert any("no manifest" in w for w in res.warnings)


def test_bad_cryptomatte_input_is_refused_clearly(tmp_path):
    ids = np.array([[crypto_id("A")]], np.uint32)
    cov = np.ones((1, 1), np.float32)
    with pytest.raises(CanvasError, match="stored as half"):
        load_cameras(_write(str(tmp_path / "h.exr"), [(ids, cov)], manifest=["A"], half=True))
    with pytest.raises(CanvasError, match="manifest is not valid JSON"):
        load_cameras(_write(str(tmp_path / "j.exr"), [(ids, cov)], manifest="{nope"))
    with pytest.raises(CanvasError, match="not hex"):
        load_cameras(_write(str(tmp_path / "x.exr"), [(ids, cov)], manifest='{"A": "zz"}'))
    plain = str(tmp_path / "p.exr")
    write_exr(plain, {"Z": np.ones((2, 2), np.float32)})
    with pytest.raises(RegionError, match="no Cryptomatte layer"):
        build_regions(load_cameras(plain)[0], source="cryptomatte")


def test_manifest_in_a_side_file(tmp_path):
    ids = np.array([[crypto_id("Sofa")]], np.uint32)
    (tmp_path / "m.json").write_text(json.dumps({"Sofa": f"{crypto_id('Sofa'):08x}"}))
    p = _write(
        str(tmp_path / "s.exr"),
        [(ids, np.ones((1, 1), np.float32))],
        extra={
            "cryptomatte/abc1234/name": "ViewLayer.CryptoObject",
            "cryptomatte/abc1234/manif_file": "m.json",
        },
    )
    res = build_regions(load_cameras(p)[0], source="cryptomatte", threshold=0)
    assert [r.description for r in res.regions] == ["Sofa"]


# --------------------------------------------------------------------------- real Blender

BPY = os.environ.get("SCENE_IMPORT_BPY_PYTHON")


@pytest.mark.blender
@pytest.mark.skipif(not BPY, reason="set SCENE_IMPORT_BPY_PYTHON to a Python with bpy 5.0.1")
def test_exporter_cryptomatte_option_renders_objects_apart(tmp_path):
    out = tmp_path / "room"
    r = subprocess.run(
        [BPY, os.path.join(ROOT, "tools", "blender", "make_sample_room.py"), "--out", str(out)]
        + ["--cameras", "Cam1", "--resolution", "160x120", "--samples", "2", "--half-cameras", "Cam1"]
        + ["--cryptomatte", "4"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    os.remove(out / "Cam1.json")  # a plain render: no exporter sidecar
    cs = load_cameras(str(out))[0]
    layer = _layer(cs)
    assert layer.levels == 4 and all(crypto_id(n) == v for n, v in layer.manifest.items())
    res = build_regions(cs, threshold=0.001)
    assert res.source == "cryptomatte"
    names = {r.objects[0] for r in res.regions}
    assert {"Chair_A", "Chair_B", "Ball"} <= names
