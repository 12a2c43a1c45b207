"""Frame sequences: Blender's numbered outputs discovered as one camera with frames, ``--frames``."""

from __future__ import annotations

import json
import os

import pytest

from lib_scene.canvas import discover, load_camera, load_frames
from lib_scene.cli import main
from lib_scene.errors import CanvasError, ParamsError
from lib_scene.frames import FrameRange, group_sequences, parse_frames, select_frames
from tests.scenes import sidecar, write_blender5


def _sequence(folder: str, name: str, frames: range, own_sidecars: bool = True) -> list[str]:
    paths = []
    for n in frames:
        path = os.path.join(folder, name.replace("####", f"{n:04d}"))
        write_blender5(path)
        paths.append(path)
        if own_sidecars:
            side = sidecar("Cam0")
            side["frame"] = n
            side["matrix_world"][0][3] = float(n)  # the camera moves
            with open(os.path.splitext(path)[0] + ".json", "w", encoding="utf-8") as fh:
                json.dump(side, fh)
    return paths


@pytest.mark.parametrize("name", ["Cam0_####.exr", "Cam0.####.exr"])
def test_numbered_outputs_are_one_camera_with_frames(tmp_path, name):
    _sequence(str(tmp_path), name, range(1, 4))
    write_blender5(str(tmp_path / "Still.exr"))
    cams = {c.camera: c for c in discover(str(tmp_path))}
    assert sorted(cams) == ["Cam0", "Still"]
    assert cams["Cam0"].frame_numbers == [1, 2, 3]
    assert cams["Still"].frame_numbers == []
    cs = load_camera(cams["Cam0"], frame=2)
    assert (cs.camera, cs.frame, cs.out_stem) == ("Cam0", 2, "Cam0.0002")
    # each frame has its own sidecar (an animated camera)
    assert cs.sidecar_path is not None and cs.sidecar_path.endswith(
        name.replace("####", "0002")[:-4] + ".json"
    )
    assert cs.sidecar is not None and cs.sidecar["frame"] == 2
    assert load_camera(cams["Cam0"]).frame == 1  # default: the first frame


def test_still_camera_sidecar_serves_every_frame(tmp_path):
    _sequence(str(tmp_path), "Cam0_####.exr", range(5, 7), own_sidecars=False)
    with open(tmp_path / "Cam0.json", "w", encoding="utf-8") as fh:
        json.dump(sidecar("Cam0"), fh)
    (src,) = discover(str(tmp_path))
    assert [cs.sidecar_path for cs in load_frames(src)] == [str(tmp_path / "Cam0.json")] * 2


def test_hash_pattern_takes_even_one_frame_and_any_width(tmp_path):
    write_blender5(str(tmp_path / "shot-00012.exr"))
    write_blender5(str(tmp_path / "other_0001.exr"))
    (src,) = discover(str(tmp_path / "shot-####.exr"))
    assert (src.camera, src.frame_numbers) == ("shot", [12])
    with pytest.raises(CanvasError, match="no files match"):
        discover(str(tmp_path / "none_####.exr"))


def test_a_lone_numbered_file_stays_a_still_camera(tmp_path):
    write_blender5(str(tmp_path / "Cam0_0001.exr"))
    write_blender5(str(tmp_path / "Cam1.exr"))
    write_blender5(str(tmp_path / "Cam_12.exr"))  # too few digits to be a frame number
    write_blender5(str(tmp_path / "Cam_13.exr"))
    names = sorted(c.camera for c in discover(str(tmp_path)))
    assert names == ["Cam0_0001", "Cam1", "Cam_12", "Cam_13"]


def test_group_sequences_keeps_separators_and_widths_apart():
    seqs, rest = group_sequences(
        ["a/C_0001.exr", "a/C_0002.exr", "a/C.0001.exr", "a/C.0002.exr", "a/C_01.exr"]
    )
    assert sorted((s.camera, len(s.frames)) for s in seqs) == [("C", 2), ("C", 2)]
    assert rest == ["a/C_01.exr"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (None, FrameRange()),
        ("all", FrameRange()),
        ("", FrameRange()),
        ("3", FrameRange(3, 3)),
        (3, FrameRange(3, 3)),
        ("2-5", FrameRange(2, 5)),
        (" 2 - 5 ", FrameRange(2, 5)),
        ("4-", FrameRange(4, None)),
        ("-4", FrameRange(None, 4)),
    ],
)
def test_parse_frames(text, want):
    assert parse_frames(text) == want


@pytest.mark.parametrize("bad", ["5-2", "a-b", "1-2-3", "-", "1,2", True, 1.5])
def test_parse_frames_refuses(bad):
    with pytest.raises(ParamsError):
        parse_frames(bad)


def test_select_frames():
    assert select_frames([1, 2, 3, 4, 5], parse_frames("2-4")) == [2, 3, 4]
    assert select_frames([1, 2, 3, 4, 5], parse_frames("4-")) == [4, 5]
    assert select_frames([1, 2, 3], parse_frames(None)) == [1, 2, 3]
    with pytest.raises(ParamsError, match="has frames 1-3"):
        select_frames([1, 2, 3], parse_frames("7-9"), "Cam0")


def test_info_shows_the_frame_range_and_commands_take_frames(tmp_path, capsys):
    _sequence(str(tmp_path), "Cam0_####.exr", range(1, 5))
    assert main(["info", str(tmp_path), "--frames", "2-3"]) == 0
    out = capsys.readouterr().out
    assert "camera Cam0: frames 1-4 (4 files); selected 2-3" in out
    assert "camera Cam0 frame 2" in out and "camera Cam0 frame 3" in out and "frame 1 " not in out
    out_dir = tmp_path / "out"
    assert main(["depth", str(tmp_path), "--out", str(out_dir), "--frames", "3-4"]) == 0
    assert sorted(p for p in os.listdir(out_dir) if p.endswith(".depth.png")) == [
        "Cam0.0003.depth.png",
        "Cam0.0004.depth.png",
    ]
    assert main(["info", str(tmp_path), "--frames", "8-9"]) == 2
