"""EXR import: every layout, pixel types, compressions, sentinels, and every refusal (real files)."""

import os
import struct

import numpy as np
import pytest
from scenes import H, W, scene, sidecar, write_blender4, write_blender5, write_daz

from lib_scene.canvas import discover, load_camera, load_cameras, no_hit_mask
from lib_scene.errors import CanvasError
from lib_scene.exr import read_exr, write_exr


def test_blender5_multipart(blender5):
    (cs,) = load_cameras(blender5)
    depth, ncam, index, beauty = scene()
    assert cs.layout == "blender5" and cs.camera == "Cam0" and (cs.width, cs.height) == (W, H)
    assert cs.layer == "ViewLayer"
    assert cs.normal_space == "world"
    np.testing.assert_array_equal(cs.object_index, index)
    np.testing.assert_array_equal(cs.depth[cs.hit], depth[depth < 1e9])
    assert cs.beauty.shape == (H, W, 4) and cs.material_index is not None
    assert cs.no_hit_count == int((depth >= 1e9).sum())
    # every part was read: five passes from five parts
    assert len(cs.channels[blender5]) == 4 + 1 + 3 + 1 + 1


def test_blender4_single_part_any_layer_name(tmp_path):
    path = write_blender4(str(tmp_path / "shot.exr"), layer="My Layer.v2")
    (cs,) = load_cameras(path)
    _, _, index, _ = scene()
    assert cs.layout == "blender4" and cs.layer == "My Layer.v2" and cs.camera == "shot"
    np.testing.assert_array_equal(cs.object_index, index)
    assert cs.normal is not None and cs.depth_range() == pytest.approx((3.0, 8.0), abs=1e-5)


def test_blender5_two_view_layers_picks_the_one_with_depth(tmp_path):
    depth, _, _, beauty = scene()
    parts = {
        "Fog.Combined": {f"Fog.Combined.{c}": beauty[..., i] for i, c in enumerate("RGBA")},
        "Main.Depth": {"Main.Depth.Z": depth},
    }
    path = str(tmp_path / "two.exr")
    write_exr(path, parts)
    cs = load_cameras(path)[0]
    assert cs.layer == "Main" and cs.depth is not None
    with pytest.raises(CanvasError, match="no view layer 'Nope'"):
        load_camera(discover(path)[0], layer="Nope")


def test_daz_canvases_grouped_by_stem(tmp_path):
    write_daz(str(tmp_path), stem="render A")
    write_daz(str(tmp_path), stem="renderB")
    cams = load_cameras(str(tmp_path))
    assert [c.camera for c in cams] == ["render A", "renderB"]
    cs = cams[0]
    assert cs.layout == "daz" and cs.depth_unit == "cm" and cs.normal_space == "camera"
    assert set(cs.sources) == {"beauty", "depth", "normal"}
    depth, ncam, _, _ = scene()
    np.testing.assert_allclose(cs.depth[cs.hit], depth[depth < 1e9] * 100, rtol=1e-6)
    assert cs.no_hit_count == int((depth >= 1e9).sum())  # Iray's float max is no hit
    np.testing.assert_allclose(cs.normal, ncam, atol=1e-3)


def test_daz_single_file_path_is_one_camera(daz):
    cams = discover(daz["depth"])
    assert len(cams) == 1 and cams[0].files == {"depth": daz["depth"]}
    cs = cams[0].load()
    assert cs.depth is not None and cs.normal is None


@pytest.mark.parametrize("compression", ["NO", "ZIP", "PIZ"])
@pytest.mark.parametrize("half", [False, True])
def test_pixel_types_and_compressions(tmp_path, compression, half):
    path = write_blender5(str(tmp_path / "c.exr"), compression=compression, half=half)
    cs = load_cameras(path)[0]
    assert cs.depth.dtype == np.float32 and cs.normal.dtype == np.float32
    _, _, index, beauty = scene()
    np.testing.assert_allclose(cs.beauty, beauty, atol=2e-3 if half else 0)
    np.testing.assert_array_equal(cs.object_index, index)


@pytest.mark.parametrize(
    "sentinel, half",
    [(1e10, False), (np.inf, False), (np.nan, False), (3.4028235e38, False), (65504.0, True), (0.0, False)],
)
def test_no_hit_sentinels(tmp_path, sentinel, half):
    depth = np.linspace(1, 5, W * H, dtype=np.float32).reshape(H, W)
    depth[:5] = sentinel
    dt = np.float16 if half else np.float32
    path = str(tmp_path / "d.exr")
    write_exr(path, {"VL.Depth": {"VL.Depth.Z": depth.astype(dt)}, "VL.Other": {"VL.Other.V": depth}})
    cs = load_cameras(path)[0]
    assert cs.no_hit_count == 5 * W
    lo, hi = cs.depth_range()
    assert hi <= 5.01 and lo >= 0.99  # the sentinel never enters a range
    from lib_scene.depth import histogram

    h = histogram(cs.depth, cs.hit, bins=4)
    assert h.hits == (H - 5) * W and h.edges[-1] <= 5.01  # nor a histogram


def test_half_overflow_is_no_hit():
    d = np.array([1.0, 65504.0, np.inf], np.float16).astype(np.float32)
    assert no_hit_mask(d, half=True).tolist() == [False, True, True]


def test_eevee_clip_end_from_sidecar(tmp_path):
    depth = np.full((H, W), 100.0025, np.float32)  # EEVEE's background: the camera's clip end
    depth[10:20, 10:20] = 4.0
    path = str(tmp_path / "Eevee.exr")
    write_exr(path, {"VL.Depth": {"VL.Depth.Z": depth}})
    assert load_cameras(path)[0].no_hit_count == 0  # unknown clip: a hit
    side = sidecar("Eevee")
    (tmp_path / "Eevee.json").write_text(__import__("json").dumps(side))
    cs = load_cameras(path)[0]
    assert cs.no_hit_count == W * H - 100 and cs.depth_range() == (4.0, 4.0)


def test_data_window_inside_display_window(tmp_path):
    import OpenEXR

    d = np.full((10, 20), 2.0, np.float32)
    hdr = {"dataWindow": ((5, 4), (24, 13)), "displayWindow": ((0, 0), (31, 23))}
    path = str(tmp_path / "crop.exr")
    f = OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **hdr}, {"Z": d})
    f.write(path)
    cs = load_cameras(path)[0]
    assert (cs.width, cs.height) == (32, 24)
    assert cs.hit.sum() == 200 and cs.hit[4:14, 5:25].all()


def _patch_data_window(path: str, ymax: int) -> None:
    raw = bytearray(open(path, "rb").read())
    key = b"dataWindow\x00box2i\x00"
    at = raw.index(key) + len(key) + 4  # after the attribute size
    x0, y0, x1, _ = struct.unpack("<4i", raw[at : at + 16])
    raw[at : at + 16] = struct.pack("<4i", x0, y0, x1, ymax)
    open(path, "wb").write(bytes(raw))


def test_refuses_absurd_data_window_before_allocating(tmp_path):
    path = str(tmp_path / "huge.exr")
    write_exr(path, {"Z": np.ones((4, 4), np.float32)}, compression="NO")
    _patch_data_window(path, 99_999)
    with pytest.raises(CanvasError) as err:
        load_cameras(path)
    assert "huge.exr" in str(err.value) and "16384" in str(err.value)


def test_refuses_mismatched_canvas_sizes(tmp_path):
    paths = write_daz(str(tmp_path), stem="r")
    write_exr(paths["normal"], {c: np.zeros((H + 2, W), np.float16) for c in "RGB"})
    with pytest.raises(CanvasError) as err:
        load_cameras(str(tmp_path))
    msg = str(err.value)
    assert "differ in size" in msg and "r-Canvas3-Normal.exr" in msg and f"{W}x{H + 2}" in msg


def test_refuses_non_exr_and_truncated_and_missing(tmp_path):
    bad = tmp_path / "notes.exr"
    bad.write_text("hello")
    with pytest.raises(CanvasError, match="notes.exr: not an OpenEXR file"):
        load_cameras(str(bad))
    good = write_blender5(str(tmp_path / "t.exr"), compression="NO")
    data = open(good, "rb").read()
    trunc = tmp_path / "trunc.exr"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(CanvasError, match="trunc.exr: unreadable OpenEXR"):
        load_cameras(str(trunc))
    with pytest.raises(CanvasError, match="no such file"):
        load_cameras(str(tmp_path / "missing.exr"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CanvasError, match="no .exr files"):
        load_cameras(str(empty))


def test_refuses_bad_sidecar_naming_it(tmp_path):
    path = write_blender5(str(tmp_path / "Cam9.exr"))
    (tmp_path / "Cam9.json").write_text("{not json")
    with pytest.raises(CanvasError, match=r"Cam9.json: sidecar is not valid JSON \(line 1"):
        load_cameras(path)


def test_refuses_two_canvases_of_one_kind(tmp_path):
    paths = write_daz(str(tmp_path), stem="r")
    os.link(paths["depth"], tmp_path / "r-Canvas7-Depth.exr")
    with pytest.raises(CanvasError, match="two depth canvases"):
        discover(str(tmp_path))


def test_inputs_are_read_only(blender5):
    cs = load_cameras(blender5)[0]
    for arr in (cs.depth, cs.hit, cs.normal, cs.beauty, cs.object_index):
        with pytest.raises(ValueError):
            arr[0, 0] = 0


def test_header_metadata_merged_across_parts(tmp_path):
    d = np.ones((4, 4), np.float32)
    path = str(tmp_path / "m.exr")
    import OpenEXR

    base = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    p0 = OpenEXR.Part(
        {**base, "cryptomatte/abc/manifest": '{"Cube": "1"}'}, {"VL.Combined.R": d}, "VL.Combined"
    )
    p1 = OpenEXR.Part({**base, "Note": "second part"}, {"VL.Depth.Z": d}, "VL.Depth")
    OpenEXR.File([p0, p1]).write(path)
    img = read_exr(path)
    assert img.header["cryptomatte/abc/manifest"] == '{"Cube": "1"}' and img.header["Note"] == "second part"
    assert img.parts == ("VL.Combined", "VL.Depth")
