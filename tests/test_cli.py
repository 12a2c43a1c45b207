"""The command-line contract: commands, file names, outputs, errors."""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
from scenes import H, W, write_blender5, write_daz

from lib_scene.cli import main
from lib_scene.palette import region_color

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "lib_scene", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_info_lists_cameras_channels_range_and_no_hit(tmp_path, capsys):
    b5 = write_blender5(str(tmp_path / "Cam0.exr"))
    write_daz(str(tmp_path / "daz"), stem="shot")
    assert main(["info", b5, str(tmp_path / "daz")]) == 0
    out = capsys.readouterr().out
    assert "camera Cam0  (blender5, 64x48, layer ViewLayer)" in out
    assert "ViewLayer.Object Index.X" in out and "depth (planar, units): 3 .. 8 over hits" in out
    assert "camera shot  (daz, 64x48)" in out and "depth (planar, cm): 300 .. 800 over hits" in out
    assert out.count(f"no-hit pixels: {4 * W} (8.33%)") == 2


def test_histogram_command(tmp_path, capsys):
    b5 = write_blender5(str(tmp_path / "Cam0.exr"))
    assert main(["histogram", b5, "--bins", "5", "--cutoff", "7"]) == 0
    out = capsys.readouterr().out
    assert " bin   percent  range" in out and "   4 " in out and "past the cutoff" in out


def test_depth_writes_three_images_per_camera(tmp_path):
    b5 = write_blender5(str(tmp_path / "Cam0.exr"))
    preset = tmp_path / "p.json"
    preset.write_text(
        json.dumps(
            {
                "version": 1,
                "cutoff": None,
                "curve": "linear",
                "splits": [
                    {"start": 2.9, "end": 5.0, "levels": 200, "test": "red", "region": 0},
                    {"start": 5.0, "end": 8.0, "levels": 56, "test": "blue", "region": 1},
                ],
            }
        )
    )
    out = tmp_path / "out"
    r = run_cli("depth", b5, "--splits", str(preset), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["Cam0.depth.png", "Cam0.regions.png", "Cam0.test.png"]
    depth = Image.open(out / "Cam0.depth.png")
    assert depth.mode == "L" and depth.size == (W, H)
    regions = np.asarray(Image.open(out / "Cam0.regions.png"))
    colours = {tuple(c) for c in regions.reshape(-1, 3)}
    assert colours == {region_color(0), region_color(1), (0, 0, 0)}
    test = np.asarray(Image.open(out / "Cam0.test.png"))
    assert (test == [255, 0, 0]).all(-1).any() and (test == [0, 0, 255]).all(-1).any()
    assert "levels used" in r.stdout


def test_depth_without_preset_uses_auto_plan(tmp_path):
    paths = write_daz(str(tmp_path / "daz"), stem="shot")
    r = run_cli("depth", os.path.dirname(paths["depth"]), "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    g = np.asarray(Image.open(tmp_path / "o" / "shot.depth.png"))
    assert g.max() == 255 and g[:4].max() == 0  # nearest is white, sky is black


def test_errors_name_the_file_and_exit_2(tmp_path):
    bad = tmp_path / "broken.exr"
    bad.write_bytes(b"\x76\x2f\x31\x01garbage")
    r = run_cli("info", str(bad))
    assert r.returncode == 2 and "broken.exr" in r.stderr and "Traceback" not in r.stderr
    b5 = write_blender5(str(tmp_path / "Cam0.exr"))
    preset = tmp_path / "p.json"
    preset.write_text('{"splits": [{"start": 1, "end": 2, "levels": 999}]}')
    r = run_cli("depth", b5, "--splits", str(preset), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "p.json" in r.stderr and "999 levels" in r.stderr
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_outputs_never_overwrite_inputs(tmp_path):
    b5 = write_blender5(str(tmp_path / "Cam0.exr"))
    before = open(b5, "rb").read()
    # an output folder equal to the input folder is fine, but an output named like an input is refused
    os.symlink(b5, tmp_path / "Cam0.depth.png")
    r = run_cli("depth", b5, "--out", str(tmp_path))
    assert r.returncode == 2 and "refusing to overwrite an input" in r.stderr
    assert open(b5, "rb").read() == before


def test_shell_session(tmp_path):
    b5 = write_blender5(str(tmp_path / "Cam0.exr"))
    script = "\n".join(
        [
            "histogram 4",
            "load " + str(tmp_path / "missing.json"),
            "add 5",
            "move 1 4.5",
            "move 1 99",
            "allocate 0 90",
            "allocate rest even",
            "flag 0 test red",
            "flag 0 region 0",
            "show_splits",
            "save " + str(tmp_path / "p.json"),
            "test",
            "write",
            "quit",
        ]
    )
    r = run_cli("shell", b5, "--out", str(tmp_path / "o"), stdin=script + "\n")
    assert r.returncode == 0, r.stderr
    assert "error:" in r.stdout and "no such preset file" in r.stdout  # a bad command does not end the shell
    assert "between its neighbours" in r.stdout
    saved = json.loads((tmp_path / "p.json").read_text())
    # 90 levels, then the freed levels shared evenly over the four splits
    assert saved["splits"][0]["levels"] > 90 and saved["splits"][0]["test"] == "red"
    assert sum(s["levels"] for s in saved["splits"]) == 256
    assert any(abs(s["end"] - 4.5) < 1e-9 for s in saved["splits"])
    assert (tmp_path / "o" / "Cam0.test.png").exists() and (tmp_path / "o" / "Cam0.depth.png").exists()


def test_console_entry_point_is_declared():
    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert 'scene-import = "lib_scene.cli:main"' in text


def test_all_background_depth_is_a_clear_error(tmp_path):
    from lib_scene.exr import write_exr

    path = str(tmp_path / "Sky.exr")
    write_exr(path, {"VL.Depth": {"VL.Depth.Z": np.full((8, 8), 1e10, np.float32)}})
    r = run_cli("depth", path, "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Sky.exr" in r.stderr and "no pixel of the depth canvas hit" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()
