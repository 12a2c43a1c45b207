"""The fake A1111 the glue tests run against (tests/fake_a1111/, see its README): fixtures that put it
on sys.path and execute our entry file as A1111 does, a recording ScriptRunner environment and scene
helpers. Test modules bind the fixtures by assignment (``a1111 = glue_env.a1111``)."""

from __future__ import annotations

import base64
import importlib
import importlib.util
import io
import os
import sys
import types

import pytest
from PIL import Image
from scenes import write_two_cameras

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FAKE = os.path.join(HERE, "fake_a1111")


@pytest.fixture(scope="module")
def a1111():
    """Put the fake ``modules`` package first on sys.path for this module's tests."""
    saved = {k: v for k, v in sys.modules.items() if k == "modules" or k.startswith("modules.")}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, FAKE)
    mods = types.SimpleNamespace(
        scripts=importlib.import_module("modules.scripts"),
        processing=importlib.import_module("modules.processing"),
        shared=importlib.import_module("modules.shared"),
        script_callbacks=importlib.import_module("modules.script_callbacks"),
    )
    assert "FAKE" in sys.modules["modules"].__doc__
    yield mods
    sys.path.remove(FAKE)
    for k in [k for k in sys.modules if k == "modules" or k.startswith("modules.")]:
        del sys.modules[k]
    sys.modules.update(saved)


@pytest.fixture(scope="module")
def entry(a1111):
    """Execute scripts/scene_import.py the way A1111 does (under its basename)."""
    spec = importlib.util.spec_from_file_location(
        "scene_import", os.path.join(ROOT, "scripts", "scene_import.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RP_DEFAULTS = [False, False, "Matrix", "Columns", "Mask", "Prompt", "1,1", "0.2", False, False, False,
               "Attention", False, "0", "0", "0.4", None, "0", "0", False]  # fmt: skip


def _recorder(scripts, title, n_default):
    class Recorder(scripts.Script):
        alwayson = True

        def __init__(self):
            self.calls = []

        def title(self):
            return title

        def show(self, is_img2img):
            return scripts.AlwaysVisible

        def process(self, p, *args):
            self.calls.append(list(args))

    return Recorder()


class Env:
    def __init__(self, a1111, entry, cn=True, rp=True, img2img=False):
        s = a1111.scripts
        self.cn = _recorder(s, "ControlNet", 3) if cn else None
        self.rp = _recorder(s, "Regional Prompter", 20) if rp else None
        self.ours = entry.Script()
        self.ours.is_img2img = img2img

        class Other(s.Script):
            def title(self):
                return "Prompt matrix"

        self.other = Other()
        alwayson = [x for x in (self.cn, self.rp) if x]
        defaults = {self.ours: [""], self.other: ["other-default"]}
        if self.cn:
            defaults[self.cn] = [types.SimpleNamespace(enabled=False) for _ in range(3)]
        if self.rp:
            defaults[self.rp] = list(RP_DEFAULTS)
        self.runner = s.ScriptRunner(alwayson, [self.ours, self.other], defaults)
        self.img2img = img2img
        self.a1111 = a1111

    def p(self, params, **kw):
        proc = self.a1111.processing
        cls = proc.StableDiffusionProcessingImg2Img if self.img2img else proc.StableDiffusionProcessingTxt2Img
        kw.setdefault("prompt", "ui prompt")
        p = cls(**kw)
        p.scripts = self.runner
        args = self.runner.default_args(selected=self.ours)
        args[self.ours.args_from] = params
        p.script_args = args
        return p

    def run(self, p):
        return self.runner.run(p, *p.script_args)


@pytest.fixture
def scene(tmp_path):
    folder = tmp_path / "scene"
    folder.mkdir()
    write_two_cameras(folder)
    return folder


def _files(folder, names=("Cam0.exr", "Cam0.json")):
    return [{"name": n, "data": base64.b64encode((folder / n).read_bytes()).decode()} for n in names]


def _png(b64):
    return Image.open(io.BytesIO(base64.b64decode(b64)))


@pytest.fixture(autouse=True)
def _reset(request):
    if "a1111" in request.fixturenames:
        shared = sys.modules.get("modules.shared")
        if shared is not None:
            shared.opts.data.clear()
            shared.cmd_opts.scene_import_allowed_dir = []
            shared.cmd_opts.scene_import_max_upload_mb = 512
            shared.state.job_count = -1
