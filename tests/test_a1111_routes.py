"""Our routes (/scene-import/v1) through fastapi's TestClient on the fake A1111, and install.py /
preload.py (split from test_a1111_glue.py)."""

from __future__ import annotations

import argparse
import base64
import importlib
import importlib.util
import json
import os
import sys
import types

import glue_env as glue
import numpy as np
import pytest
from glue_env import Env, _files, _png

a1111, entry, scene, _reset = glue.a1111, glue.entry, glue.scene, glue._reset  # the fixtures


# --------------------------------------------------------------------------- routes


@pytest.fixture
def client(a1111):
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from scene_import_a1111.routes import register

    app = FastAPI()
    register(app)
    return TestClient(app, raise_server_exceptions=False)


def test_routes_version_and_schema(client):
    v = client.get("/scene-import/v1/version").json()
    assert v["name"] == "scene-import" and v["script"] == "scene import" and v["api"] == 1
    s = client.get("/scene-import/v1/schema").json()
    assert s["properties"]["depth"]["properties"]["weight"]["default"] == 0.3 and "files" in s["properties"]


def test_route_plan_returns_plans_and_payloads(client, scene, a1111, entry, monkeypatch):
    env = Env(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", env.runner, raising=False)
    r = client.post(
        "/scene-import/v1/plan", json={"files": _files(scene), "params": {"long_side": 64, "mode": "img2img"}}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    (item,) = out["plans"]
    assert item["camera"] == "Cam0" and item["endpoint"] == "/sdapi/v1/img2img"
    body = item["payload"]
    assert body["denoising_strength"] == 0.52 and len(body["alwayson_scripts"]["ControlNet"]["args"]) == 3
    assert len(body["alwayson_scripts"]["Regional Prompter"]["args"]) == 20
    assert item["plan"]["format"] == "scene-import-plan" and _png(item["plan"]["units"][0]["image"]).size == (
        64,
        48,
    )
    forge = client.post(
        "/scene-import/v1/plan", json={"files": _files(scene), "host": "forge", "unit_count": 2}
    ).json()
    units = forge["plans"][0]["payload"]["alwayson_scripts"]["ControlNet"]["args"]
    assert [u["module"] for u in units] == ["None", "None"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{nope", 400, "not valid JSON"),
        (b"[1]", 400, "must be a JSON object"),
        (json.dumps({"files": [], "extra": 1}).encode(), 422, "unknown request keys ['extra']"),
        (json.dumps({"params": {"depth": {"weight": 5}}}).encode(), 422, "depth.weight must be in [0, 2]"),
        (json.dumps({"params": {"files": []}}).encode(), 422, "top level"),
        (json.dumps({"scene": "/etc"}).encode(), 403, "allowed-dir"),
        (json.dumps({"files": [{"name": "../../x.sh", "data": ""}]}).encode(), 400, "only .exr"),
        (json.dumps({"files": [{"name": "Cam0.exr", "data": "bm90IGFuIGV4cg=="}]}).encode(), 422, "Cam0.exr"),
        (json.dumps({"unit_count": 0}).encode(), 422, "unit_count"),
    ],
)
def test_route_errors_are_4xx_with_a_message(client, body, status, needle):
    r = client.post("/scene-import/v1/plan", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]


def test_route_server_bugs_are_500_with_a_short_message_and_a_logged_traceback(
    client, scene, monkeypatch, caplog
):
    from scene_import_a1111 import routes

    def broken(*a, **k):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(routes, "plans_for_request", broken)
    r = client.post("/scene-import/v1/plan", json={"files": _files(scene)})
    assert r.status_code == 500
    assert r.json()["error"] == "internal error in Scene Import (ZeroDivisionError); see the server log"
    assert any(rec.exc_info and rec.exc_info[0] is ZeroDivisionError for rec in caplog.records)


def test_route_payloads_carry_one_resolved_seed(client, scene, a1111, entry, monkeypatch):
    env = Env(a1111, entry)
    monkeypatch.setattr(a1111.scripts, "scripts_txt2img", env.runner, raising=False)
    files = _files(scene, ("Cam0.exr", "Cam0.json", "Cam1.exr", "Cam1.json"))
    out = client.post("/scene-import/v1/plan", json={"files": files, "params": {"long_side": 64}}).json()
    seeds = {item["payload"]["seed"] for item in out["plans"]} | {
        item["plan"]["seed"] for item in out["plans"]
    }
    assert len(out["plans"]) == 2 and len(seeds) == 1 and -1 not in seeds


def test_route_upload_limit(client, scene, a1111):
    a1111.shared.cmd_opts.scene_import_max_upload_mb = 1
    big = {"files": [{"name": "Cam0.exr", "data": base64.b64encode(b"\0" * (3 * 2**20)).decode()}]}
    r = client.post("/scene-import/v1/plan", json=big)
    assert r.status_code == 413 and "upload limit" in r.json()["error"]


# --------------------------------------------------------------------------- install.py / preload.py


def _run_install(monkeypatch, installed: bool):
    calls = []
    launch = types.ModuleType("launch")
    launch.is_installed = lambda name: installed and name == "OpenEXR"

    def run_pip(args, desc=None):
        with open(args.split('-c "')[1].rstrip('"')) as fh:
            calls.append((args, desc, fh.read()))

    launch.run_pip = run_pip
    monkeypatch.setitem(sys.modules, "launch", launch)
    spec = importlib.util.spec_from_file_location("si_install", os.path.join(glue.ROOT, "install.py"))
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return calls


def test_install_pins_what_the_webui_has(monkeypatch):
    ((args, desc, constraints),) = _run_install(monkeypatch, installed=False)
    want = "OpenEXR==3.5.2" if sys.version_info < (3, 11) else "OpenEXR>=3.5,<3.6"
    assert args.startswith(f'install "{want}" -c "') and "OpenEXR" in desc
    assert f"numpy=={np.__version__}" in constraints.splitlines()
    import PIL

    assert f"Pillow=={PIL.__version__}" in constraints.splitlines()
    assert _run_install(monkeypatch, installed=True) == []


def test_preload_flags():
    spec = importlib.util.spec_from_file_location("si_preload", os.path.join(glue.ROOT, "preload.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    parser = argparse.ArgumentParser()
    mod.preload(parser)
    ns = parser.parse_args(["--scene-import-allowed-dir", "/a", "--scene-import-allowed-dir", "/b"])
    assert ns.scene_import_allowed_dir == ["/a", "/b"] and ns.scene_import_max_upload_mb == 512
