"""Atomic, polite outputs (issue 14): the umask is honoured, a failure leaves no temp or partial
file, inputs are never written, and piping the CLI into ``head`` ends quietly."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from scenes import write_blender5

from lib_scene import files
from lib_scene.errors import OutputError, SceneImportError
from lib_scene.files import OutputBatch, atomic_write_text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_outputs_follow_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        batch = OutputBatch()
        batch.add_png(tmp_path / "a.png", np.zeros((2, 2), np.uint8))
        batch.commit()
        atomic_write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    for name in ("a.png", "b.txt"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~mask


def test_a_failure_part_way_leaves_no_temp_file(tmp_path, monkeypatch):
    batch = OutputBatch()
    for n in range(3):
        batch.add(tmp_path / f"f{n}.txt", "data")
    real = files._write_fd
    calls = []

    def failing(fd, data, tmp, path):
        calls.append(path)
        if len(calls) == 2:
            os.close(fd)
            raise OSError(5, "Input/output error")
        real(fd, data, tmp, path)

    monkeypatch.setattr(files, "_write_fd", failing)
    with pytest.raises(OutputError) as err:
        batch.commit()
    assert err.value.path == str(tmp_path / "f1.txt") and "Input/output error" in err.value.problem
    assert os.listdir(tmp_path) == [], "no temp file, no partial output"


def test_a_failed_rename_puts_back_every_target_already_renamed(tmp_path):
    """Rename k fails for real (a name longer than the file system allows: its temp file has a short
    name, so only the rename fails): the targets renamed before it are put back, the replaced one
    with its old content, the new one removed; no temp or backup file is left."""
    (tmp_path / "a.txt").write_text("old a")
    inode = os.stat(tmp_path / "a.txt").st_ino
    long_name = "x" * 300 + ".txt"
    batch = OutputBatch()
    batch.add(tmp_path / "a.txt", "new a")
    batch.add(tmp_path / "b.txt", "new b")
    batch.add(tmp_path / long_name, "long")
    with pytest.raises(OutputError) as err:
        batch.commit()
    assert err.value.path == str(tmp_path / long_name) and "nothing was written" in err.value.problem
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a" and os.stat(tmp_path / "a.txt").st_ino == inode


def test_a_target_that_became_a_non_empty_folder_rolls_the_commit_back(tmp_path):
    """``out/a`` is a file of the batch and also the folder of ``out/a/b.txt``: writing the temp
    files makes ``out/a`` a folder holding a temp file, so renaming over it fails (the second
    rename). The first target gets its old content back; the folder the commit made is gone."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "z.png").write_bytes(b"old z")
    batch = OutputBatch()
    batch.add(out / "z.png", b"new z")
    batch.add(out / "a", "a file")
    batch.add(out / "a" / "b.txt", "b")
    with pytest.raises(OutputError) as err:
        batch.commit()
    assert err.value.path == str(out / "a")
    assert os.listdir(out) == ["z.png"] and (out / "z.png").read_bytes() == b"old z"
    batch = OutputBatch()  # and a good batch after it writes as usual
    batch.add(out / "z.png", b"new z")
    batch.add(out / "c" / "d.txt", "d")
    assert batch.commit() == [str(out / "z.png"), str(out / "c" / "d.txt")]
    assert (out / "z.png").read_bytes() == b"new z" and sorted(os.listdir(out)) == ["c", "z.png"]


def test_a_blocked_folder_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "x").write_text("a file where a folder must be")
    batch = OutputBatch()
    batch.add(tmp_path / "out" / "a.txt", "a")
    batch.add(tmp_path / "x" / "b.txt", "b")
    with pytest.raises(OutputError, match="x: the output folder is a file"):
        batch.commit()
    assert sorted(os.listdir(tmp_path)) == ["x"]


def test_inputs_are_never_outputs(tmp_path):
    exr = write_blender5(str(tmp_path / "Cam0.exr"))
    batch = OutputBatch(protect=[exr])
    with pytest.raises(SceneImportError, match="refusing to overwrite an input file"):
        batch.add(exr, b"x")


def test_piping_into_head_ends_quietly(tmp_path):
    exr = write_blender5(str(tmp_path / "Cam0.exr"))
    cmd = f"{sys.executable} -m lib_scene histogram {exr} --bins 4000 | head -n 1"
    r = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.stdout.strip().startswith("camera Cam0")
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    assert r.returncode in (0, 141)
