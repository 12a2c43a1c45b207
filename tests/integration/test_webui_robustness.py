"""Opt-in: issue 14's webui findings against a REAL A1111 (see test_webui.py for how to run it).

Needs ``SCENE_IMPORT_WEBUI_URL``; the symlink tests also need ``SCENE_IMPORT_WEBUI_SCENE`` (a scene
folder inside the webui's ``--scene-import-allowed-dir``: its parent must be writable, a folder of
links is made there and removed). ``SCENE_IMPORT_WEBUI_LOG`` (the webui's log file) lets the tests
check that refusals leave no traceback in the server log. No generation runs here except none: every
check is a refusal or a plan.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import urllib.request

import pytest

from lib_scene.webui_client import WebuiError, request_json

URL = os.environ.get("SCENE_IMPORT_WEBUI_URL", "").rstrip("/")
SCENE = os.environ.get("SCENE_IMPORT_WEBUI_SCENE", "")
LOG = os.environ.get("SCENE_IMPORT_WEBUI_LOG", "")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOM = os.path.join(ROOT, "samples", "room")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not URL, reason="set SCENE_IMPORT_WEBUI_URL to a running A1111 with Scene Import"),
]


def post(path, body):
    return request_json(URL + path, body, timeout=300)


def post_raw(path, raw: bytes) -> tuple[int, str]:
    req = urllib.request.Request(
        URL + path, data=raw, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def files(*names):
    return [
        {"name": n, "data": base64.b64encode(open(os.path.join(ROOM, n), "rb").read()).decode()}
        for n in names
    ]


def script(args):
    return {
        "prompt": "x",
        "steps": 1,
        "width": 64,
        "height": 64,
        "script_name": "scene import",
        "script_args": args,
    }


@pytest.fixture
def log_mark():
    """The webui log's size now; the test checks no traceback was logged after it."""
    if not LOG or not os.path.isfile(LOG):
        yield None
        return
    start = os.path.getsize(LOG)
    yield start
    time.sleep(0.5)
    with open(LOG, encoding="utf-8", errors="replace") as fh:
        fh.seek(start)
        new = fh.read()
    assert "Traceback" not in new, new[-3000:]


@pytest.fixture
def linked_scene(tmp_path):
    """A folder inside the allowed root whose Cam0.exr/.json are links to files OUTSIDE it."""
    if not SCENE:
        pytest.skip("set SCENE_IMPORT_WEBUI_SCENE to a scene folder inside the webui's allowed dir")
    outside = tmp_path / "outside"
    outside.mkdir()
    for n in ("Cam0.exr", "Cam0.json"):
        shutil.copy(os.path.join(ROOM, n), outside / n)
    name = f"i14-links-{os.getpid()}"
    folder = os.path.join(os.path.dirname(SCENE), name)
    os.makedirs(folder)
    try:
        for n in ("Cam0.exr", "Cam0.json"):
            os.symlink(outside / n, os.path.join(folder, n))
        yield name
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_plan_refuses_file_symlinks_out_of_the_allowed_dir(linked_scene, log_mark):
    with pytest.raises(WebuiError, match=r"HTTP 403: .*Cam0\.exr is a link to a file outside"):
        post("/scene-import/v1/plan", {"scene": linked_scene, "params": {"long_side": 64}})


def test_script_refuses_file_symlinks_out_of_the_allowed_dir(linked_scene, log_mark):
    with pytest.raises(WebuiError, match=r"HTTP 403: .*is a link to a file outside"):
        post("/sdapi/v1/txt2img", script([{"scene": linked_scene, "long_side": 64}]))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([{"scene": "/etc/passwd"}], r"HTTP 403: .*outside the folders"),
        ([{"scene": "room\u0000"}], r"HTTP 403: .*NUL byte"),
        ([{"scene": "../../etc"}], r"HTTP 403: "),
        ([None], r"HTTP 422: .*received no params"),
        ([123], r"HTTP 422: .*received a int"),
        ([{"no_such_key": 1}], r"HTTP 422: .*unknown parameter 'no_such_key'"),
        (
            [{"files": [{"name": "Cam0.exr", "data": "bm90IGFuIGV4cg=="}]}],
            r"HTTP 422: Cam0\.exr: not an OpenEXR file",
        ),
        ([{"files": [{"name": "../evil.sh", "data": ""}]}], r"HTTP 400: "),
        ([{"scene": "room", "long_side": 8192}], r"HTTP 422: .*exceeds this webui's limit"),
    ],
)
def test_script_refusals_are_4xx_without_a_traceback(args, needle, log_mark):
    with pytest.raises(WebuiError, match=needle):
        post("/sdapi/v1/txt2img", script(args))


def test_plan_bodies_are_refused_cleanly(log_mark):
    status, text = post_raw("/scene-import/v1/plan", b"[" * 100000 + b"]" * 100000)
    assert status == 400 and "nested more than 64 levels" in text
    t0 = time.monotonic()
    status, text = post_raw(
        "/scene-import/v1/plan",
        json.dumps({"files": files("Cam0.exr"), "params": {"long_side": 8192}}).encode(),
    )
    assert status == 422 and "exceeds this webui's limit" in text
    assert time.monotonic() - t0 < 10, "the limit is checked before any work"


def test_plan_payloads_one_seed_steps_and_no_server_paths(log_mark):
    out = post(
        "/scene-import/v1/plan",
        {"files": files("Cam0.exr", "Cam0.json", "Cam1.exr", "Cam1.json"), "params": {"long_side": 64}},
    )
    payloads = [item["payload"] for item in out["plans"]]
    assert len(payloads) == 2 and len({p["seed"] for p in payloads}) == 1 and payloads[0]["seed"] != -1
    assert all(p["steps"] == 20 for p in payloads)
    text = json.dumps(out)
    assert "scene-import-uploads" not in text and "/tmp/" not in text
    with pytest.raises(WebuiError) as err:
        post("/scene-import/v1/plan", {"files": [{"name": "Cam0.exr", "data": "bm90IGFuIGV4cg=="}]})
    assert "Cam0.exr: not an OpenEXR file" in str(err.value) and "/tmp/" not in str(err.value.problem)
