"""Allowed-root checks (after resolving symlinks and '..') and upload decoding (lib_scene/paths.py)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from lib_scene.paths import (
    PathNotAllowed,
    UploadError,
    decode_uploads,
    is_within,
    resolve_allowed,
    safe_upload_name,
    write_uploads,
)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "scenes" / "room").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.exr").write_bytes(b"x")
    os.symlink(outside, root / "link-out")
    os.symlink(root / "scenes" / "room", root / "link-in")
    return root, outside


def test_inside_a_root(tree):
    root, _ = tree
    assert resolve_allowed(str(root / "scenes" / "room"), [str(root)]) == os.path.realpath(
        root / "scenes" / "room"
    )
    assert resolve_allowed(str(root), [str(root)]) == os.path.realpath(root)
    assert resolve_allowed("scenes/room", [str(root)]) == os.path.realpath(root / "scenes" / "room")
    assert resolve_allowed(str(root / "link-in"), [str(root)]) == os.path.realpath(root / "scenes" / "room")


@pytest.mark.parametrize(
    "rel",
    ["link-out", "link-out/secret.exr", "scenes/../../outside", "../outside/secret.exr"],
)
def test_symlinks_and_dotdot_out_of_a_root_are_refused(tree, rel):
    root, _ = tree
    with pytest.raises(PathNotAllowed, match="outside the folders"):
        resolve_allowed(str(root / rel), [str(root)])
    with pytest.raises(PathNotAllowed):
        resolve_allowed(rel, [str(root)])


def test_prefix_sibling_is_not_inside(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root2").mkdir()
    assert not is_within(str(tmp_path / "root2"), str(tmp_path / "root"))
    with pytest.raises(PathNotAllowed):
        resolve_allowed(str(tmp_path / "root2"), [str(tmp_path / "root")])


def test_no_roots_or_bad_paths(tree):
    root, _ = tree
    with pytest.raises(PathNotAllowed, match="--scene-import-allowed-dir"):
        resolve_allowed(str(root), [])
    with pytest.raises(PathNotAllowed, match="no server path"):
        resolve_allowed("  ", [str(root)])
    with pytest.raises(PathNotAllowed, match="NUL"):
        resolve_allowed("a\x00b", [str(root)])
    with pytest.raises(PathNotAllowed, match="not found in any allowed folder"):
        resolve_allowed("nope", [str(root)])


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Cam0.exr", "Cam0.exr"),
        ("C:\\renders\\Cam 1.EXR", "Cam 1.EXR"),
        ("../../Cam0.json", "Cam0.json"),
        ("descriptions.properties", "descriptions.properties"),
        (".hidden.exr", None),
        ("run.sh", None),
        ("..", None),
        ("a;b.exr", None),
        (3, None),
    ],
)
def test_upload_names(name, ok):
    if ok is None:
        with pytest.raises(UploadError):
            safe_upload_name(name)
    else:
        assert safe_upload_name(name) == ok


def test_decode_and_write_uploads(tmp_path):
    files = [{"name": "Cam0.exr", "data": base64.b64encode(b"abc").decode()},
             {"name": "Cam0.json", "data": "data:application/json;base64," + base64.b64encode(b"{}").decode()}]  # fmt: skip
    got = decode_uploads(files, 1000)
    assert got == [("Cam0.exr", b"abc"), ("Cam0.json", b"{}")]
    paths = write_uploads(got, str(tmp_path / "up"))
    assert [Path(p).read_bytes() for p in paths] == [b"abc", b"{}"]
    with pytest.raises(FileExistsError):
        write_uploads(got, str(tmp_path / "up"))  # never over an existing file
    with pytest.raises(UploadError, match="exceed the limit"):
        decode_uploads([{"name": "a.exr", "data": base64.b64encode(b"x" * 3000).decode()}], 1000)
    with pytest.raises(UploadError, match="uploaded twice"):
        decode_uploads(files + [files[0]], 1000)
    with pytest.raises(UploadError, match="not valid base64"):
        decode_uploads([{"name": "a.exr", "data": "@@"}], 1000)
    with pytest.raises(UploadError, match="exactly 'name' and 'data'"):
        decode_uploads([{"name": "a.exr"}], 1000)
    with pytest.raises(UploadError, match="non-empty list"):
        decode_uploads({}, 1000)
