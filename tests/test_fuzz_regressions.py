"""Inputs the fuzz harnesses (tools/fuzz/) found, rebuilt here, with the outcome each must have."""

from __future__ import annotations

import numpy as np
import pytest

from lib_scene.canvas import load_multilayer
from lib_scene.errors import CanvasError
from lib_scene.exr import read_header, write_exr


def _garbled_channel_name(tmp_path) -> str:
    """fuzz_exr crash (2 inputs in its first seconds): a channel name that is not UTF-8 made the
    OpenEXR binding raise UnicodeDecodeError from inside our header checks."""
    path = tmp_path / "Cam0.exr"
    write_exr(str(path), {"Zq": np.ones((4, 4), np.float32)}, compression="NO")
    data = path.read_bytes()
    assert data.count(b"Zq\x00") == 1
    path.write_bytes(data.replace(b"Zq\x00", b"Z\xf0\x00"))
    return str(path)


def test_a_garbled_channel_name_is_a_canvas_error(tmp_path, capfd):
    path = _garbled_channel_name(tmp_path)
    with pytest.raises(CanvasError, match=r"Cam0\.exr: unreadable OpenEXR (file|header)"):
        read_header(path)
        load_multilayer(path)
    out, err = capfd.readouterr()
    assert out == "" and err == "", "OpenEXR's own messages are captured, not printed"


def test_a_truncated_file_says_what_openexr_said(tmp_path, capfd):
    path = tmp_path / "Cam0.exr"
    write_exr(str(path), {"Z": np.random.default_rng(1).random((64, 64), dtype=np.float32) + 1})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CanvasError, match=r"Cam0\.exr: unreadable OpenEXR pixel data: .*\(OpenEXR said: "):
        load_multilayer(str(path))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_huge_tile_size_is_refused_before_any_pixel_is_allocated(tmp_path):
    """fuzz_exr out-of-memory (with the tiled seed of write_mixed_parts): a tile height of
    134217752 rows made OpenEXR's whole-file read allocate 16.8 GB before it failed."""
    import struct

    from scenes import write_mixed_parts

    path = tmp_path / "Cam0.exr"
    write_mixed_parts(str(path), width=24, height=12, compressions=("NO", "ZIP"))
    data = bytearray(path.read_bytes())
    at = data.index(b"tiles\x00tiledesc\x00") + len(b"tiles\x00tiledesc\x00") + 4
    struct.pack_into("<I", data, at + 4, 134217752)  # xSize, then ySize
    path.write_bytes(bytes(data))
    with pytest.raises(CanvasError, match=r"Cam0\.exr: declared tile size is 48x134217752 pixels"):
        load_multilayer(str(path))
