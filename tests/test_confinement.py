# ruff: noqa: F811  (pytest fixtures imported from test_a1111_glue)
"""Confined paths and clean refusals on every way a path or a body reaches the webui glue (issue 14).

Script args (under the API: an HTTP 4xx, never a 500), ``POST /scene-import/v1/plan``, the tab's
folder box (``paths.confined_folder``), uploads and names inside params all resolve inside the allowed
folders after symlinks and ``..``; a FILE symlink inside an allowed scene folder pointing outside is
refused like a folder symlink. ControlNet and Regional Prompter get images inline, never a path.
"""

from __future__ import annotations

import base64
import json
import logging
import os

import pytest
from scenes import sidecar, write_blender5
from test_a1111_glue import Env, _files, _reset, a1111, client, entry, scene  # noqa: F401  (fixtures)

from lib_scene.errors import NotFoundError, PathNotAllowed
from lib_scene.paths import MAX_PATH, confined_folder, resolve_allowed


@pytest.fixture
def outside(tmp_path):
    """An allowed root holding 'room' (Cam0.exr/.json are links to files OUTSIDE the root)."""
    secret = tmp_path / "secret"
    secret.mkdir()
    write_blender5(str(secret / "Cam0.exr"))
    (secret / "Cam0.json").write_text(json.dumps(sidecar()))
    root = tmp_path / "allowed"
    room = root / "room"
    room.mkdir(parents=True)
    os.symlink(secret / "Cam0.exr", room / "Cam0.exr")
    os.symlink(secret / "Cam0.json", room / "Cam0.json")
    return root


# --------------------------------------------------------------------------- the core rule


def test_file_symlinks_pointing_outside_are_refused(outside):
    with pytest.raises(PathNotAllowed, match=r"Cam0\.exr is a link to a file outside the folders"):
        confined_folder("room", [str(outside)])


def test_symlinks_inside_the_roots_are_fine(tmp_path):
    root = tmp_path / "allowed"
    (root / "room").mkdir(parents=True)
    write_blender5(str(root / "Cam0.exr"))
    os.symlink(root / "Cam0.exr", root / "room" / "Cam0.exr")
    assert confined_folder("room", [str(root)]) == os.path.realpath(root / "room")


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/etc", "outside the folders"),
        ("room/../../secret", "outside the folders"),
        ("room\x00/etc", "NUL byte"),
        ("a" * (MAX_PATH + 1), "longer than 4096"),
        ("%2e%2e/%2e%2e/etc", "not found in any allowed folder"),
        ("..%2f..%2fetc", "not found in any allowed folder"),
        ("", "no server path given"),
        ("link", "outside the folders"),  # a folder symlink out of the root
    ],
)
def test_every_path_trick_is_refused(outside, tmp_path, path, needle):
    os.symlink(tmp_path / "secret", outside / "link")
    with pytest.raises(PathNotAllowed, match=needle):
        confined_folder(path, [str(outside)])


def test_names_inside_params_resolve_inside_the_roots(outside, tmp_path):
    (tmp_path / "secret" / "p.json").write_text("{}")
    os.symlink(tmp_path / "secret" / "p.json", outside / "p.json")
    with pytest.raises(PathNotAllowed):
        resolve_allowed("p.json", [str(outside)])  # a preset named in params, linked outside


# --------------------------------------------------------------------------- the Script under the API


def _api_p(env, params):
    p = env.p(params)
    p.is_api = True
    return p


@pytest.mark.parametrize(
    ("args", "status", "needle"),
    [
        ({"scene": "/etc/passwd"}, 403, "outside the folders"),
        ({"scene": "room\x00x"}, 403, "NUL byte"),
        ({"scene": "room"}, 403, "is a link to a file outside"),
        ({"scene": "../secret"}, 403, "outside the folders"),
        ({"scene": "a" * 5000}, 403, "longer than 4096"),
        ({"unknown_key": 1}, 422, "unknown parameter 'unknown_key'"),
        ({"files": [{"name": "Cam0.exr", "data": "bm90IGFuIGV4cg=="}]}, 422, "Cam0.exr: not an OpenEXR file"),
        ({"files": [{"name": "../x.sh", "data": ""}]}, 400, "only .exr"),
        ({"long_side": 4096, "scene": "room"}, 422, "exceeds this webui's limit of 2048"),
        ('{"a":' * 100 + "1" + "}" * 100, 422, "nested more than 64 levels"),
        (None, 422, "received no params (null)"),
        (123, 422, "received a int"),
    ],
)
def test_script_refusals_are_4xx_without_a_traceback(a1111, entry, outside, args, status, needle, caplog):
    fastapi = pytest.importorskip("fastapi")
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(outside)]
    env = Env(a1111, entry)
    with caplog.at_level(logging.DEBUG), pytest.raises(fastapi.HTTPException) as err:
        env.run(_api_p(env, args))
    assert err.value.status_code == status, err.value.detail
    assert needle in err.value.detail
    assert not any(r.exc_info for r in caplog.records), "a refusal logs no traceback"


def test_script_upload_over_the_cap_is_413(a1111, entry):
    fastapi = pytest.importorskip("fastapi")
    a1111.shared.cmd_opts.scene_import_max_upload_mb = 1
    env = Env(a1111, entry)
    big = [{"name": "Cam0.exr", "data": base64.b64encode(b"\0" * (2 * 2**20)).decode()}]
    with pytest.raises(fastapi.HTTPException) as err:
        env.run(_api_p(env, {"files": big}))
    assert err.value.status_code == 413


# --------------------------------------------------------------------------- POST /plan


def _post(client, body):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/scene-import/v1/plan", content=raw, headers={"content-type": "application/json"})


def test_plan_refuses_file_symlinks_out_of_the_root(client, a1111, outside, caplog):
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(outside)]
    with caplog.at_level(logging.WARNING, logger="scene_import"):
        r = _post(client, {"scene": "room"})
    assert r.status_code == 403 and "is a link to a file outside" in r.json()["error"]
    assert any("refused a /plan request (HTTP 403)" in rec.getMessage() for rec in caplog.records)
    assert not any(rec.exc_info for rec in caplog.records)


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"[" * 100000 + b"]" * 100000, 400, "nested more than 64 levels"),
        (b"\xff\xfe{}", 400, "not UTF-8"),
        (b'{"params": {"long_side": 8192}, "files": []}', 422, "exceeds this webui's limit"),
        (b'{"scene": "' + b"a" * 5000 + b'"}', 403, "longer than 4096"),
        (b'{"scene": "room\\u0000"}', 403, "NUL byte"),
        (b'{"scene": "%2e%2e%2f%2e%2e%2fetc"}', 403, "not found"),
    ],
)
def test_plan_bodies_that_are_refused_not_crashed_on(client, a1111, outside, body, status, needle):
    a1111.shared.cmd_opts.scene_import_allowed_dir = [str(outside)]
    r = _post(client, body)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def test_plan_answers_hold_no_server_path_and_one_seed_and_steps(client, a1111, entry, scene, monkeypatch):
    from scene_import_a1111 import runner

    env = Env(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", env.runner, raising=False)
    files = _files(scene, ("Cam0.exr", "Cam0.json", "Cam1.exr", "Cam1.json"))
    out = _post(client, {"files": files, "params": {"long_side": 64}}).json()
    text = list(_strings(out))
    assert not any(runner.UPLOADS_ROOT in t or "/tmp/" in t for t in text), "no server path anywhere"
    payloads = [item["payload"] for item in out["plans"]]
    assert len({p["seed"] for p in payloads}) == 1 and payloads[0]["seed"] != -1
    assert all(p["steps"] == 20 for p in payloads), "a payload never falls back to the API's 50 steps"
    units = [u for p in payloads for u in p["alwayson_scripts"]["ControlNet"]["args"] if u.get("enabled")]
    assert units and all(
        base64.b64decode(u["image"]["image"] if isinstance(u["image"], dict) else u["image"]) for u in units
    )
    assert not any(os.sep in str(u.get("image")) and os.path.exists(str(u.get("image"))) for u in units)


def test_upload_errors_name_the_file_not_the_server_folder(client, a1111):
    from scene_import_a1111 import runner

    r = _post(client, {"files": [{"name": "Cam0.exr", "data": base64.b64encode(b"not an exr").decode()}]})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err.startswith("Cam0.exr: not an OpenEXR file") and runner.UPLOADS_ROOT not in err


# --------------------------------------------------------------------------- the tab's uploads


def test_tab_uploads_have_a_size_limit_and_stage_nothing_over_it(a1111, tmp_path, monkeypatch):
    from lib_scene.errors import UploadTooLarge
    from scene_import_a1111 import runner

    monkeypatch.setattr(runner, "UPLOADS_ROOT", str(tmp_path / "uploads"))
    a1111.shared.cmd_opts.scene_import_max_upload_mb = 1
    big = tmp_path / "Cam0.exr"
    big.write_bytes(b"\0" * (2 * 2**20))
    with pytest.raises(UploadTooLarge, match="uploads exceed the limit of 1 MiB"):
        runner.store_ui_upload([str(big)])
    assert not (tmp_path / "uploads").exists() or os.listdir(tmp_path / "uploads") == []
    small = tmp_path / "Cam1.json"
    small.write_text("{}")
    uid = runner.store_ui_upload([str(small)])
    assert os.listdir(runner.upload_dir(uid)) == ["Cam1.json"]


def test_staged_tab_uploads_are_removed_after_a_day(a1111, tmp_path, monkeypatch):
    from scene_import_a1111 import runner

    monkeypatch.setattr(runner, "UPLOADS_ROOT", str(tmp_path / "uploads"))
    old_id, old = runner.new_upload_dir()
    (tmp_path / "uploads" / "not-an-upload").mkdir()  # only upload folders (32 hex digits) are swept
    day_ago = os.path.getmtime(old) - 24 * 3600 - 60
    os.utime(old, (day_ago, day_ago))
    os.utime(tmp_path / "uploads" / "not-an-upload", (day_ago, day_ago))
    fresh_id, fresh = runner.new_upload_dir()
    assert not os.path.exists(old) and os.path.isdir(fresh)
    assert sorted(os.listdir(tmp_path / "uploads")) == sorted([fresh_id, "not-an-upload"])
    with pytest.raises(NotFoundError, match="uploads are kept one day"):
        runner.upload_dir(old_id)
