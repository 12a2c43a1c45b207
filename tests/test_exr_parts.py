"""Reading one part of a multi-part EXR (lib_scene/exr_parts.py): the cut-out part decodes to
exactly the arrays of OpenEXR's whole-file read, only the needed parts are decoded, and anything
odd falls back to the whole-file read (or the refusal it always gave)."""

from __future__ import annotations

import glob
import os
import shutil
import struct

import numpy as np
import pytest
from conftest import SAMPLES
from scenes import MIXED_COMPRESSIONS, write_blender4, write_blender5, write_mixed_parts

from lib_scene import exr_parts
from lib_scene.canvas import load_multilayer
from lib_scene.errors import CanvasError
from lib_scene.exr import read_exr, write_exr


def _whole(path: str) -> dict[str, np.ndarray]:
    """Every channel as OpenEXR's own whole-file read decodes it (the reference)."""
    import OpenEXR

    f = OpenEXR.File(path, separate_channels=True)
    return {n: np.asarray(c.pixels) for p in f.parts for n, c in p.channels.items()}


def _assert_same_as_whole(path: str) -> int:
    """Each part read alone (a fresh ExrImage per part) equals the whole-file read, bit for bit."""
    ref = _whole(path)
    img = read_exr(path)
    assert set(img.channels) == set(ref)
    for part in img.parts:
        one = read_exr(path)
        names = [n for n, c in one.channels.items() if c.part == part]
        for name in names:
            got = one.channels[name].stored
            assert got.dtype == ref[name].dtype and got.shape == ref[name].shape, name
            assert got.tobytes() == ref[name].tobytes(), name
        assert one.decoded_parts() == [part], "only the part looked at is decoded"
    whole = read_exr(path, whole=True)
    for name, ch in img.channels.items():
        assert ch.pixels.tobytes() == whole.channels[name].pixels.tobytes(), name
    return len(img.parts)


MULTI_PART_SAMPLES = sorted(
    p for p in glob.glob(os.path.join(SAMPLES, "*", "*.exr")) if exr_parts.scan(p) is not None
)


def test_every_multi_part_sample_is_cut_out():
    """The bpy-rendered samples (Blender 5.0.1, Cycles): five and eight parts, float and half."""
    assert len(MULTI_PART_SAMPLES) >= 4, MULTI_PART_SAMPLES
    for path in MULTI_PART_SAMPLES:
        assert _assert_same_as_whole(path) >= 5


def test_scanline_and_tiled_parts_every_compression(tmp_path):
    path = write_mixed_parts(str(tmp_path / "mixed.exr"))
    layout = exr_parts.scan(path)
    assert layout is not None
    assert [p.storage for p in layout.parts] == ["scanlineimage", "tiledimage"] * (
        len(MIXED_COMPRESSIONS) // 2
    )
    assert _assert_same_as_whole(path) == len(MIXED_COMPRESSIONS)
    # the part with a smaller data window is placed on the display window (NaN outside)
    px = read_exr(path).channels["P4.X"].pixels
    assert px.shape == (130, 200) and np.isnan(px[0, 0]) and not np.isnan(px[5:115, 10:180]).any()


def test_blender5_written_file_loads_the_same_either_way(tmp_path):
    path = write_blender5(str(tmp_path / "Cam0.exr"), compression="PIZ", half=True)
    _assert_same_as_whole(path)
    cs = load_multilayer(path, need=("depth",))
    ref = read_exr(path, whole=True).channels["ViewLayer.Depth.Z"].pixels
    assert cs.depth.tobytes() == ref.tobytes()


def test_a_depth_only_load_decodes_the_depth_part_alone(tmp_path, monkeypatch):
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    seen = []
    real = read_exr

    def spy(p, whole=False):
        img = real(p, whole)
        seen.append(img)
        return img

    monkeypatch.setattr("lib_scene.canvas.read_exr", spy)
    load_multilayer(path, need=("depth",))
    assert seen[0].decoded_parts() == ["ViewLayer.Depth"]
    seen.clear()
    load_multilayer(path, need=("depth", "normal", "object"))
    assert seen[0].decoded_parts() == ["ViewLayer.Depth", "ViewLayer.Normal", "ViewLayer.Object Index"]


def test_single_part_files_are_read_whole(tmp_path):
    path = write_blender4(str(tmp_path / "Cam0.exr"))
    assert exr_parts.scan(path) is None
    img = read_exr(path)
    assert img.decoded_parts() == [""], "a single-part file is decoded when it is read"


def _table_entry(path: str, part: int, chunk: int) -> int:
    """File position of one offset-table entry (parsed independently of exr_parts)."""
    layout = exr_parts.scan(path)
    assert layout is not None
    pos = 8 + sum(len(p.header) for p in layout.parts) + 1
    pos += 8 * sum(len(p.offsets) for p in layout.parts[:part])
    return pos + 8 * chunk


@pytest.mark.parametrize("damage", ["offset past the end", "chunk of another part", "zero offset", "version"])
def test_an_odd_layout_falls_back_to_the_whole_file_read(tmp_path, damage):
    path = write_blender5(str(tmp_path / "Cam0.exr"), compression="NO")
    data = bytearray(open(path, "rb").read())
    layout = exr_parts.scan(path)
    depth = layout.find("ViewLayer.Depth")
    at = _table_entry(path, depth.index, 0)
    if damage == "offset past the end":
        data[at : at + 8] = struct.pack("<Q", len(data) + 100)
    elif damage == "chunk of another part":  # the depth part's first chunk says it is part 0's
        off = int(depth.offsets[0])
        data[off : off + 4] = struct.pack("<i", 0)
    elif damage == "zero offset":  # an unfinished write leaves zeros in the table
        data[at : at + 8] = bytes(8)
    else:  # an unknown flag in the version field
        data[4:8] = struct.pack("<i", 2 | 0x1000 | 0x10000)
    open(path, "wb").write(bytes(data))
    assert exr_parts.scan(path) is None
    try:  # what the whole-file read gives: OpenEXR's own repair or its refusal, never a crash
        cs = load_multilayer(path, need=("depth",))
    except CanvasError as exc:
        assert "Cam0.exr" in str(exc)
    else:
        assert cs.depth is not None


def test_a_damaged_needed_part_is_refused_by_name(tmp_path):
    path = write_blender5(str(tmp_path / "Cam0.exr"), compression="ZIP", width=256, height=192)
    layout = exr_parts.scan(path)
    depth = layout.find("ViewLayer.Depth")
    data = bytearray(open(path, "rb").read())
    off = int(depth.offsets[len(depth.offsets) // 2])
    size = struct.unpack_from("<i", data, off + 8)[0]
    data[off + 12 : off + 12 + size] = bytes(range(256)) * (size // 256) + bytes(size % 256)
    open(path, "wb").write(bytes(data))
    assert exr_parts.scan(path) is not None, "the layout is fine; the chunk's data is not"
    with pytest.raises(CanvasError, match=r"Cam0\.exr: unreadable OpenEXR"):
        load_multilayer(path, need=("depth",))
    # the other parts are intact and still read
    cs = load_multilayer(path, need=("object",))
    assert cs.object_index is not None


def test_a_file_changed_after_the_scan_is_read_whole(tmp_path):
    path = write_blender5(str(tmp_path / "Cam0.exr"))
    img = read_exr(path)
    other = write_blender5(str(tmp_path / "Other.exr"), width=80, height=60)
    shutil.copyfile(other, path)  # another size: the scanned layout no longer fits
    with pytest.raises(CanvasError):
        _ = img.channels["ViewLayer.Depth.Z"].pixels


def test_long_part_names_and_a_cryptomatte_sample_keep_their_headers(tmp_path):
    name = "A view layer with a rather long name.Depth"
    path = str(tmp_path / "long.exr")
    write_exr(
        path,
        {
            "A view layer with a rather long name.Combined": {
                "A view layer with a rather long name.Combined.R": np.ones((8, 8), np.float32)
            },
            name: {f"{name}.Z": np.full((8, 8), 2.0, np.float32)},
        },
    )
    assert exr_parts.scan(path) is not None
    assert read_exr(path).channels[f"{name}.Z"].pixels.tolist() == np.full((8, 8), 2.0).tolist()
    crypto = os.path.join(SAMPLES, "room_crypto", "Cam0.exr")
    cs = load_multilayer(crypto, need=("cryptomatte",))
    assert cs.cryptomatte and all(layer.manifest for layer in cs.cryptomatte.values())
