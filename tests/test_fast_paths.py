"""The fast paths of issue 10: our PNG encoder, loading only the needed canvases, progress bars."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from lib_scene import files, progress
from lib_scene.canvas import discover, load_camera
from lib_scene.files import OutputBatch, png_bytes


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        arr = np.asarray(img)
        return arr.astype(np.uint16) if img.mode.startswith("I") else arr


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(7 * 5, dtype=np.uint8).reshape(7, 5) * 7,
        np.random.default_rng(0).integers(0, 256, (9, 11, 3), dtype=np.uint8),
        (np.arange(6 * 4, dtype=np.uint16).reshape(6, 4) * 2731),
        np.zeros((1, 1), np.uint8),
    ],
    ids=["grey", "rgb", "grey16", "1x1"],
)
def test_png_round_trips_through_pillow(arr):
    assert np.array_equal(_decode(png_bytes(arr)), arr)


def test_png_of_several_strips_decodes_with_pillow_and_opencv(monkeypatch):
    """Strips deflated on threads join into one valid zlib stream (other decoders agree)."""
    monkeypatch.setattr(files, "_STRIP_BYTES", 1000)  # ~20 strips for this image
    rng = np.random.default_rng(1)
    arr = np.repeat(rng.integers(0, 256, (120, 1, 3), dtype=np.uint8), 97, axis=1)
    arr[::7] = rng.integers(0, 256, arr[::7].shape, dtype=np.uint8)
    data = png_bytes(arr)
    assert np.array_equal(_decode(data), arr)
    cv2 = pytest.importorskip("cv2")
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(bgr[..., ::-1], arr)


def test_strips_filtered_apart_give_the_stream_of_the_whole(monkeypatch):
    """Each strip is filtered and checksummed on its own; the joined stream's Adler-32 is that of
    the whole filtered image and its inflated bytes are the whole image filtered at once."""
    rng = np.random.default_rng(2)
    for shape, bpp in (((131, 37, 3), 3), ((64, 1000), 1), ((1, 5), 1)):
        arr = rng.integers(0, 256, shape, dtype=np.uint8)
        rows = arr.reshape(arr.shape[0], -1)
        whole = files._sub_filtered(rows, bpp).tobytes()
        for strip in (1000, 37, 1):
            monkeypatch.setattr(files, "_STRIP_BYTES", strip)
            stream = files._zlib_stream(files._row_slicer(rows), rows.shape[0], rows.shape[1], bpp, 1)
            assert stream[-4:] == zlib.adler32(whole).to_bytes(4, "big")
            assert zlib.decompress(stream) == whole
    for a, b in ((b"", b"x"), (b"abc", b""), (bytes(range(256)) * 300, b"\xff" * 70000)):
        combined = files._adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b))
        assert combined == zlib.adler32(a + b)


def test_a_table_image_encodes_as_its_whole_lookup(monkeypatch):
    """A TableImage (looked up strip by strip) gives the PNG of table[index], byte for byte."""
    from lib_scene.blocks import TableImage

    monkeypatch.setattr(files, "_STRIP_BYTES", 500)
    rng = np.random.default_rng(3)
    index = rng.integers(0, 6, (53, 41), dtype=np.uint16)
    for table in (rng.integers(0, 256, (6, 3), dtype=np.uint8), rng.integers(0, 256, 6, dtype=np.uint8)):
        img = TableImage(table, index)
        assert np.array_equal(img.whole(), table[index])
        assert png_bytes(img) == png_bytes(table[index])
        assert img.any() and img.size == table[index].size
    counts = np.bincount(index.ravel(), minlength=6)
    black = np.zeros((6, 3), np.uint8)
    black[5] = 9  # only a code no pixel has is coloured
    index[index == 5] = 0
    assert not TableImage(black, index).any()
    assert not TableImage(black, index, np.bincount(index.ravel(), minlength=6)).any()
    assert TableImage(black, index, counts).any() is True  # counts say code 5 has pixels


def test_png_refuses_what_it_cannot_encode():
    for bad in (np.zeros((4, 4), np.float32), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 3), np.uint8)):
        with pytest.raises(ValueError):
            png_bytes(bad)


def test_batch_encodes_in_parallel_and_writes_all(tmp_path):
    batch = OutputBatch()
    imgs = {f"{k}.png": np.full((30, 40, 3), k * 20, np.uint8) for k in range(6)}
    for name, arr in imgs.items():
        batch.add_png(tmp_path / name, arr)
    written = batch.commit()
    assert [os.path.basename(p) for p in written] == list(imgs)
    for name, arr in imgs.items():
        assert np.array_equal(_decode((tmp_path / name).read_bytes()), arr)


def test_depth_only_load_skips_the_other_canvases(blender5):
    (src,) = discover([blender5])
    full = load_camera(src)
    only = load_camera(src, need=("depth",))
    assert only.beauty is None and only.normal is None and only.object_index is None
    assert np.array_equal(only.depth, full.depth) and np.array_equal(only.hit, full.hit)
    assert only.channels == full.channels  # every input file still listed (and protected)


def test_daz_depth_only_never_decodes_the_other_files(daz):
    """A truncated beauty canvas fails a full load but not a load of the depth alone."""
    with open(daz["beauty"], "r+b") as fh:
        size = fh.seek(0, 2)
        fh.truncate(size - 200)
    (src,) = discover([os.path.dirname(daz["depth"])])
    with pytest.raises(Exception, match="truncated|corrupt|unreadable"):
        load_camera(src)
    cs = load_camera(src, need=("depth",))
    assert cs.depth is not None and cs.beauty is None
    assert set(cs.channels) == set(daz.values())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_steps_draw_a_bar_on_a_terminal_only(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(progress, "DELAY", 0.0)
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    with progress.Steps(2, "depth") as steps:
        steps.next("Cam0: reading")
        steps.next("Cam0: quantising")
    assert "depth" in term.getvalue() and "Cam0" in term.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with progress.Steps(2, "depth") as steps:
        steps.next("Cam0: reading")
    assert piped.getvalue() == ""


def test_cli_depth_is_quiet_on_stderr_when_piped(blender5, tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    res = subprocess.run(
        [sys.executable, "-m", "lib_scene", "depth", blender5, "--out", str(tmp_path / "out")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # no progress noise; only the honest warning that the automatic plan has no region flags
    assert all(ln.startswith("scene-import: warning: ") for ln in res.stderr.splitlines()), res.stderr
    assert "levels used" in res.stdout and res.stdout.count("wrote ") == 3


def test_cli_plan_imports_only_what_it_uses(blender5, tmp_path):
    """``plan`` on a small canvas: the same files, without the other command modules, the webui
    client's urllib stack or opencv (numpy grows the regions; the same pixels, test_regions)."""
    import json

    from scenes import sidecar

    with open(os.path.join(os.path.dirname(blender5), "Cam0.json"), "w", encoding="utf-8") as fh:
        json.dump(sidecar("Cam0"), fh)
    code = (
        "import sys; from lib_scene.cli import main; "
        f"main(['plan', {blender5!r}, '--seed', '5', '--out', {str(tmp_path / 'out')!r}]); "
        "print(sorted(m for m in ('cv2', 'lib_scene.cli_warp', 'lib_scene.cli_regions', "
        "'lib_scene.cli_normal', 'lib_scene.run_job', 'urllib.request') if m in sys.modules))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
        capture_output=True,
        text=True,
        check=True,
    )
    assert res.stdout.splitlines()[-1] == "[]"
    pytest.importorskip("cv2")  # imported: the regions grow with opencv in this process
    from lib_scene.cli import main

    assert main(["plan", blender5, "--seed", "5", "--out", str(tmp_path / "again")]) == 0
    names = sorted(os.listdir(tmp_path / "out"))
    assert names == sorted(os.listdir(tmp_path / "again")) and "Cam0.regions.png" in names
    for name in names:
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


@pytest.mark.parametrize("command", ["plan", "regions", "normal"])
def test_cli_commands_show_a_bar_on_a_terminal_only(command, blender5, tmp_path, monkeypatch, capsys):
    pytest.importorskip("tqdm")
    import json

    from scenes import sidecar

    from lib_scene.cli import main

    camera = os.path.splitext(os.path.basename(blender5))[0]
    with open(os.path.splitext(blender5)[0] + ".json", "w", encoding="utf-8") as fh:
        json.dump(sidecar(camera), fh)  # the normal command needs the camera matrix
    monkeypatch.setattr(progress, "DELAY", 0.0)
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    assert main([command, blender5, "--out", str(tmp_path / "a")]) == 0
    assert command in term.getvalue() and camera in term.getvalue()
    assert "wrote " in capsys.readouterr().out
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    assert main([command, blender5, "--out", str(tmp_path / "b")]) == 0
    assert piped.getvalue() == ""
    assert sorted(os.listdir(tmp_path / "a")) == sorted(os.listdir(tmp_path / "b"))
