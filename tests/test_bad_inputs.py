"""A corpus of bad inputs, each with its exact outcome (issue 14).

Every case is made here (small real files: EXRs written with OpenEXR, JSON and binary files) and
run through the CLI in-process. An **error** case asserts exit 2, a one-line ``scene-import: error``
(or argparse's usage error) naming the file or the flag with the problem, no traceback, and nothing
written (the output folder absent or empty, no temp file). A **warning** case asserts exit 0, the
warning on stderr, and valid outputs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from scenes import H, W, sidecar, write_blender5, write_daz

from lib_scene.cli import main
from lib_scene.exr import write_exr

Builder = Callable[[str], list[str]]  # tmp dir -> argv (the out folder is <tmp>/out)


@dataclass(frozen=True)
class Case:
    name: str
    build: Builder
    stderr: str  # regex that must match stderr
    warning: bool = False  # exit 0 with a warning and outputs, instead of exit 2 and nothing written


def cam(tmp: str, name: str = "Cam0", **kw: object) -> str:
    folder = os.path.join(tmp, "scene")
    os.makedirs(folder, exist_ok=True)
    return write_blender5(os.path.join(folder, f"{name}.exr"), **kw)


def out(tmp: str) -> str:
    return os.path.join(tmp, "out")


def write(tmp: str, name: str, data: bytes | str) -> str:
    path = os.path.join(tmp, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    return path


def preset_case(doc: bytes | str | object) -> Builder:
    def build(tmp: str) -> list[str]:
        data = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
        return ["depth", cam(tmp), "--splits", write(tmp, "preset.json", data), "--out", out(tmp)]

    return build


def params_case(text: str) -> Builder:
    return lambda tmp: ["plan", cam(tmp), "--out", out(tmp), "--params", text]


def plain_exr(tmp: str, name: str, chans: dict[str, np.ndarray]) -> str:
    path = os.path.join(tmp, "scene", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_exr(path, chans)
    return path


def depth_exr(tmp: str, depth: np.ndarray) -> str:
    return plain_exr(tmp, "Cam0.exr", {"Z": depth.astype(np.float32)})


def with_sidecar(doc: object, raw: bytes | None = None) -> Builder:
    def build(tmp: str) -> list[str]:
        path = cam(tmp)
        write(tmp, "scene/Cam0.json", raw if raw is not None else json.dumps(doc))
        return ["depth", path, "--out", out(tmp)]

    return build


def side_with(**changes: object) -> dict[str, object]:
    d = sidecar()
    d.update(changes)
    return d


def truncated(tmp: str) -> str:
    path = cam(tmp)
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
    return path


def nested(n: int) -> str:
    return "[" * n + "]" * n


def two_named_cam0(tmp: str) -> list[str]:
    os.makedirs(os.path.join(tmp, "a"))
    os.makedirs(os.path.join(tmp, "b"))
    a = write_blender5(os.path.join(tmp, "a", "Cam0.exr"))
    b = write_blender5(os.path.join(tmp, "b", "Cam0.exr"))
    return ["plan", os.path.dirname(a), os.path.dirname(b), "--out", out(tmp)]


def rgb_daz_depth(tmp: str) -> list[str]:
    folder = os.path.join(tmp, "daz")
    os.makedirs(folder)
    rgb = np.ones((H, W), np.float32)
    write_exr(os.path.join(folder, "r-Canvas2-Depth.exr"), {"R": rgb, "G": rgb, "B": rgb})
    return ["depth", folder, "--out", out(tmp)]


def under_file(tmp: str) -> str:
    return os.path.join(write(tmp, "afile", "x"), "sub")


def bad_sidecar_doc(tmp: str) -> list[str]:
    path = cam(tmp)
    return ["normal", path, "--sidecar", write(tmp, "side.json", "{oops"), "--out", out(tmp)]


def empty_normal_canvas(tmp: str) -> list[str]:
    """A Daz canvas set whose normal canvas is all zeros (an empty pass)."""
    paths = write_daz(os.path.join(tmp, "scene"))
    zero = np.zeros((H, W), np.float16)
    write_exr(paths["normal"], {c: zero for c in "RGB"})
    return ["normal", os.path.join(tmp, "scene"), "--out", out(tmp)]


def world_normals_without_sidecar(tmp: str) -> list[str]:
    return ["plan", cam(tmp), "--out", out(tmp)]  # a Blender EXR: world-space normals, no Cam0.json


NAN = np.full((H, W), np.nan, np.float32)

CASES = [
    # ---------------------------------------------------------------- argument values
    Case(
        "bins-zero",
        lambda t: ["histogram", cam(t), "--bins", "0"],
        r"--bins: 0 is out of range; give 1 to 4096",
    ),
    Case("bins-negative", lambda t: ["histogram", cam(t), "--bins", "-3"], r"--bins: -3 is out of range"),
    Case(
        "bins-huge",
        lambda t: ["histogram", cam(t), "--bins", "1000000000"],
        r"--bins: 1000000000 is out of range",
    ),
    Case(
        "bins-text",
        lambda t: ["histogram", cam(t), "--bins", "many"],
        r"--bins: 'many' is not a whole number",
    ),
    Case(
        "hist-cutoff-nan",
        lambda t: ["histogram", cam(t), "--cutoff", "nan"],
        r"--cutoff: 'nan' is not a finite number",
    ),
    Case(
        "hist-cutoff-inf",
        lambda t: ["histogram", cam(t), "--cutoff", "inf"],
        r"--cutoff: 'inf' is not a finite number",
    ),
    Case(
        "hist-cutoff-negative",
        lambda t: ["histogram", cam(t), "--cutoff", "-1"],
        r"--cutoff: -1 is too small; give a number above 0",
    ),
    Case(
        "depth-cutoff-nan",
        lambda t: ["depth", cam(t), "--out", out(t), "--cutoff", "nan"],
        r"--cutoff: 'nan' is not a finite number",
    ),
    Case(
        "depth-cutoff-zero",
        lambda t: ["depth", cam(t), "--out", out(t), "--cutoff", "0"],
        r"--cutoff: 0 is too small",
    ),
    Case(
        "grow-too-large",
        lambda t: ["regions", cam(t), "--out", out(t), "--grow", "65"],
        r"--grow: 65 is out of range; give 0 to 64",
    ),
    Case(
        "seed-below",
        lambda t: ["plan", cam(t), "--out", out(t), "--seed", "-2"],
        r"--seed: -2 is out of range",
    ),
    Case(
        "seed-above",
        lambda t: ["plan", cam(t), "--out", out(t), "--seed", str(2**32)],
        r"--seed: 4294967296 is out of range",
    ),
    Case(
        "webui-not-url",
        lambda t: ["run", cam(t), "--webui", "notaurl", "--out", out(t)],
        r"--webui: 'notaurl' is not a webui address: give http://HOST:PORT",
    ),
    Case(
        "webui-no-scheme",
        lambda t: ["run", cam(t), "--webui", "127.0.0.1:7860", "--out", out(t)],
        r"did you mean 'http://127\.0\.0\.1:7860'\?",
    ),
    Case(
        "webui-bad-port",
        lambda t: ["run", cam(t), "--webui", "http://h:99999", "--out", out(t)],
        r"--webui: 'http://h:99999' is not a URL",
    ),
    Case(
        "timeout-zero",
        lambda t: ["run", cam(t), "--webui", "http://127.0.0.1:9", "--timeout", "0", "--out", out(t)],
        r"--timeout: 0 is too small",
    ),
    Case(
        "models-not-url",
        lambda t: ["plan", cam(t), "--out", out(t), "--webui-models", "localhost"],
        r"--webui-models: 'localhost' is not a webui address",
    ),
    # ---------------------------------------------------------------- output locations
    Case(
        "out-is-file",
        lambda t: ["depth", cam(t), "--out", write(t, "out", "x")],
        r"out: the output folder is a file; choose another --out",
    ),
    Case(
        "out-under-file",
        lambda t: ["depth", cam(t), "--out", under_file(t)],
        r"sub: the output folder cannot be made: .*afile is a file, not a folder",
    ),
    Case(
        "out-cannot-make",
        lambda t: ["depth", cam(t), "--out", "/proc/scene-import-test/out"],
        r"/proc/scene-import-test/out: cannot make the output folder",
    ),
    Case(
        "normal-out-is-file",
        lambda t: [
            "normal",
            cam(t),
            "--sidecar",
            write(t, "s.json", json.dumps(sidecar())),
            "--out",
            write(t, "out", "x"),
        ],
        r"the output folder is a file",
    ),
    Case(
        "regions-out-under-file",
        lambda t: ["regions", cam(t), "--out", under_file(t)],
        r"cannot be made: .*afile is a file",
    ),
    Case(
        "plan-out-is-file",
        lambda t: ["plan", cam(t), "--out", write(t, "out", "x")],
        r"the output folder is a file",
    ),
    # ---------------------------------------------------------------- split presets
    Case(
        "preset-binary",
        preset_case(b"\x89PNG\r\n\x1a\n\xff\xfe\x00"),
        r"preset\.json: preset file is not UTF-8 text .*binary file",
    ),
    Case(
        "preset-deep",
        preset_case(nested(100000)),
        r"preset\.json: preset file is nested more than 64 levels deep",
    ),
    Case(
        "preset-deep-objects",
        preset_case('{"a":' * 70 + "1" + "}" * 70),
        r"preset\.json: preset file is nested more than 64",
    ),
    Case("preset-too-large", preset_case(" " * (8 * 2**20 + 1)), r"preset\.json: preset file is too large"),
    Case(
        "preset-not-json",
        preset_case("{splits: []}"),
        r"preset\.json: preset file is not valid JSON \(line 1 column 2",
    ),
    Case("preset-list", preset_case([1, 2]), r"preset\.json: a split preset must be a JSON object"),
    Case(
        "preset-typo-key",
        preset_case({"cutof": 5, "splits": [{"start": 1, "end": 9, "levels": 10}]}),
        r"unknown preset key 'cutof' \(did you mean 'cutoff'\?\)",
    ),
    Case(
        "preset-split-key",
        preset_case({"splits": [{"start": 1, "end": 9, "levels": 10, "colour": "red"}]}),
        r"split 0 has unknown keys \['colour'\]",
    ),
    Case(
        "preset-nan-start",
        preset_case('{"splits": [{"start": NaN, "end": 9, "levels": 10}]}'),
        r"preset\.json: split 0 start",
    ),
    Case(
        "preset-too-many-levels",
        preset_case({"splits": [{"start": 1, "end": 9, "levels": 300}]}),
        r"preset\.json: .*256",
    ),
    Case(
        "preset-long-number",
        preset_case('{"splits": [{"start": ' + "1" * 5000 + ', "end": 9}]}'),
        r"preset\.json: preset file is not usable JSON",
    ),
    Case(
        "preset-version",
        preset_case({"version": 2, "splits": [{"start": 1, "end": 2}]}),
        r"unsupported preset version 2",
    ),
    Case("preset-empty-splits", preset_case({"splits": []}), r"'splits' must be a non-empty list"),
    Case(
        "preset-folder",
        lambda t: ["depth", cam(t), "--splits", t, "--out", out(t)],
        r"preset file is a folder; give a JSON file",
    ),
    Case(
        "preset-missing",
        lambda t: ["depth", cam(t), "--splits", os.path.join(t, "nope.json"), "--out", out(t)],
        r"nope\.json: no such preset file",
    ),
    # ---------------------------------------------------------------- params
    Case("params-not-json", params_case("{depth: 1}"), r"--params is not valid JSON \(line 1 column 2"),
    Case("params-list", params_case("[]"), r"--params must be a JSON object"),
    Case("params-deep", params_case(nested(5000)), r"--params is nested more than 64 levels deep"),
    Case(
        "params-file-missing",
        lambda t: ["plan", cam(t), "--out", out(t), "--params", "@" + os.path.join(t, "p.json")],
        r"p\.json: no such params file",
    ),
    Case(
        "params-file-binary",
        lambda t: [
            "plan",
            cam(t),
            "--out",
            out(t),
            "--params",
            "@" + write(t, "p.json", b"\xff\xfe\x00\x01"),
        ],
        r"p\.json: params file \(--params @FILE\) is not UTF-8 text",
    ),
    Case("params-unknown-key", params_case('{"depht": {"weight": 0.4}}'), r"unknown parameter 'depht'"),
    Case(
        "params-long-side",
        params_case('{"long_side": 99999}'),
        r"long_side must be in \[0, 8192\], got 99999",
    ),
    Case("params-seed-text", params_case('{"seed": "x"}'), r"seed must be a number, got 'x'"),
    Case("params-nan-weight", params_case('{"depth": {"weight": NaN}}'), r"depth.weight must be finite"),
    # ---------------------------------------------------------------- sidecars
    Case(
        "sidecar-not-json",
        with_sidecar(None, b"{oops"),
        r"Cam0\.json: sidecar is not valid JSON \(line 1 column 2",
    ),
    Case("sidecar-binary", with_sidecar(None, b"\x00\xff\xfe"), r"Cam0\.json: sidecar is not UTF-8 text"),
    Case("sidecar-list", with_sidecar([1, 2]), r"Cam0\.json: sidecar must hold a JSON object"),
    Case(
        "sidecar-deep",
        with_sidecar(None, nested(1000).encode()),
        r"Cam0\.json: sidecar is nested more than 64 levels deep",
    ),
    Case("sidecar-flag-not-json", bad_sidecar_doc, r"side\.json: sidecar is not valid JSON"),
    Case(
        "sidecar-clip-malformed",
        with_sidecar(side_with(clip="far")),
        r"warning: sidecar .*Cam0\.json: 'clip' 'far' is not \[near, far\]",
        warning=True,
    ),
    Case(
        "sidecar-clip-reversed",
        with_sidecar(side_with(clip=[100, 0.1])),
        r"warning: sidecar .*'clip' \[100, 0\.1\] is not \[near, far\]",
        warning=True,
    ),
    Case(
        "sidecar-resolution-contradicts",
        with_sidecar(side_with(resolution=[1920, 1920])),
        r"warning: sidecar .*resolution 1920x1920 contradicts the canvas size 64x48",
        warning=True,
    ),
    Case(
        "sidecar-resolution-malformed",
        with_sidecar(side_with(resolution="HD")),
        r"warning: sidecar .*'resolution' 'HD' is not \[width, height\]; ignored",
        warning=True,
    ),
    # ---------------------------------------------------------------- descriptions
    Case(
        "descriptions-binary",
        lambda t: ["plan", cam(t), "--out", out(t), "--descriptions", write(t, "d.txt", b"\xff\x00\xfe")],
        r"d\.txt: descriptions file is not UTF-8 text",
    ),
    Case(
        "descriptions-deep",
        lambda t: ["plan", cam(t), "--out", out(t), "--descriptions", write(t, "d.json", nested(3000))],
        r"d\.json: descriptions file is nested more than 64",
    ),
    Case(
        "descriptions-missing",
        lambda t: ["plan", cam(t), "--out", out(t), "--descriptions", os.path.join(t, "d.txt")],
        r"d\.txt: no such descriptions file",
    ),
    # ---------------------------------------------------------------- canvases
    Case(
        "exr-truncated",
        lambda t: ["depth", truncated(t), "--out", out(t)],
        r"Cam0\.exr: unreadable OpenEXR pixel data: .*(OpenEXR said: .*)",
    ),
    Case(
        "exr-text",
        lambda t: ["depth", write(t, "scene/Cam0.exr", "hello"), "--out", out(t)],
        r"Cam0\.exr: not an OpenEXR file \(bad magic number\)",
    ),
    Case("exr-empty", lambda t: ["info", write(t, "scene/Cam0.exr", b"")], r"Cam0\.exr: not an OpenEXR file"),
    Case(
        "exr-header-garbage",
        lambda t: ["info", write(t, "scene/Cam0.exr", b"\x76\x2f\x31\x01" + bytes(range(256)) * 4)],
        r"Cam0\.exr: unreadable OpenEXR header",
    ),
    Case(
        "daz-depth-is-rgb",
        rgb_daz_depth,
        r"r-Canvas2-Depth\.exr: a depth canvas needs one depth channel \(Y or Z\); this file has channels B, G, R",
    ),
    Case(
        "no-exr-in-folder",
        lambda t: ["depth", os.path.dirname(write(t, "empty/readme.txt", "x")), "--out", out(t)],
        r"empty: no \.exr files found",
    ),
    Case("missing-path", lambda t: ["info", os.path.join(t, "nothing")], r"nothing: no such file or folder"),
    Case(
        "two-cameras-one-name",
        two_named_cam0,
        r"two cameras are named 'Cam0' .*give one folder at a time or rename one",
    ),
    Case(
        "depth-all-nan-auto",
        lambda t: ["depth", depth_exr(t, NAN), "--out", out(t)],
        r"camera 'Cam0': no pixel of the depth canvas hit anything",
    ),
    # ---------------------------------------------------------------- warnings with valid outputs
    Case(
        "depth-all-nan-preset",
        lambda t: [
            "depth",
            depth_exr(t, NAN),
            "--splits",
            write(t, "p.json", json.dumps({"splits": [{"start": 1, "end": 9, "levels": 200}]})),
            "--out",
            out(t),
        ],
        r"warning: camera Cam0: the depth map is all black; the depth canvas has no hit pixel",
        warning=True,
    ),
    Case(
        "depth-all-inf-preset",
        lambda t: [
            "depth",
            depth_exr(t, np.full((H, W), np.inf)),
            "--splits",
            write(t, "p.json", json.dumps({"splits": [{"start": 1, "end": 9, "levels": 200}]})),
            "--out",
            out(t),
        ],
        r"warning: camera Cam0: the depth map is all black",
        warning=True,
    ),
    Case(
        "depth-negative-canvas",
        lambda t: [
            "depth",
            depth_exr(t, np.full((H, W), -5.0)),
            "--splits",
            write(t, "p.json", json.dumps({"splits": [{"start": 1, "end": 9, "levels": 200}]})),
            "--out",
            out(t),
        ],
        r"warning: camera Cam0: the depth map is all black; the depth canvas has no hit pixel",
        warning=True,
    ),
    Case(
        "depth-cm-preset-on-metres",
        lambda t: [
            "depth",
            cam(t),
            "--splits",
            write(
                t, "p.json", json.dumps({"cutoff": 2, "splits": [{"start": 100, "end": 900, "levels": 200}]})
            ),
            "--out",
            out(t),
        ],
        r"warning: camera Cam0: the depth map is all black; all \d+ hit pixels are at or past the cutoff .*metres",
        warning=True,
    ),
    Case(
        "depth-no-region-flags",
        lambda t: ["depth", cam(t), "--out", out(t)],
        r"warning: camera Cam0: the region mask is all black \(no regions\); no split has a 'region' number",
        warning=True,
    ),
    Case(
        "histogram-cutoff-before-hits", lambda t: ["histogram", cam(t), "--cutoff", "1"], r"^$", warning=True
    ),
    Case(
        "normal-empty-canvas",
        empty_normal_canvas,
        r"warning: camera scene: the normal map is one flat colour \(128, 128, 255\); the normal canvas holds "
        r"no usable normals",
        warning=True,
    ),
    Case(
        "plan-world-normals-without-sidecar",
        world_normals_without_sidecar,
        # plan has no --sidecar: the hint is the sidecar next to the EXR (or the normal command's flag)
        r"warning: camera Cam0: normal map failed .*put the camera sidecar Cam0\.json \(with its "
        r"matrix_world\) next to the EXR, or pass it with the normal command's --sidecar FILE",
        warning=True,
    ),
]


def _listing(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def _temp_files(root: str) -> list[str]:
    return [p for p in _listing(root) if os.path.basename(p).startswith(".tmp-")]


def test_the_corpus_is_large_and_names_are_unique():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(case: Case, tmp_path, capsys):
    tmp = str(tmp_path)
    argv = case.build(tmp)
    before = {p: os.path.getmtime(os.path.join(tmp, p)) for p in _listing(tmp) if not p.startswith("out")}
    out_before = _listing(out(tmp)) if os.path.isdir(out(tmp)) else None
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and "Traceback" not in cap.out
    assert re.search(case.stderr, cap.err, re.M), cap.err
    # inputs are never written
    after = {
        p: os.path.getmtime(os.path.join(tmp, p)) for p in before if os.path.exists(os.path.join(tmp, p))
    }
    assert after == before
    assert not _temp_files(tmp)
    if case.warning:
        assert code == 0, cap.err
        if argv[0] != "histogram":
            assert _listing(out(tmp)), "a warning case still writes its outputs"
    else:
        assert code == 2
        err_lines = [ln for ln in cap.err.splitlines() if ln.strip()]
        assert err_lines and (
            err_lines[-1].startswith("scene-import: error: ") or "error: argument" in err_lines[-1]
        )
        assert _listing(out(tmp)) == (out_before or []), "nothing is written on an error"


def test_histogram_past_the_cutoff_counts_honestly(tmp_path, capsys):
    path = cam(str(tmp_path))
    assert main(["histogram", path, "--cutoff", "1"]) == 0
    text = capsys.readouterr().out
    assert "no depth to histogram: every hit pixel is at or past the cutoff" in text
    sky = 4 * W  # the scene's no-hit rows
    assert f"0 hit pixels, {sky} no-hit pixels, {W * H - sky} past the cutoff" in text
    assert "[0, 1]" not in text


def test_first_commands_test_png_is_not_the_depth_map(tmp_path, capsys):
    path = cam(str(tmp_path))
    assert main(["depth", path, "--out", out(str(tmp_path))]) == 0
    from PIL import Image

    grey = np.asarray(Image.open(os.path.join(out(str(tmp_path)), "Cam0.depth.png")))
    test = np.asarray(Image.open(os.path.join(out(str(tmp_path)), "Cam0.test.png")))
    assert not (test == grey[..., None]).all(), "automatic splits get distinct test colours"
    hit = grey > 0
    coloured = test[hit]
    assert ((coloured[:, 0] != coloured[:, 1]) | (coloured[:, 1] != coloured[:, 2])).all(), "no grey left"


def test_daz_sample_canvases_still_read(tmp_path, capsys):
    paths = write_daz(str(tmp_path / "daz"))
    assert main(["info", os.path.dirname(paths["depth"])]) == 0


def test_the_tab_shows_the_same_sidecar_warnings_on_load(tmp_path):
    pytest.importorskip("gradio")
    from scene_import_a1111.tab.state import TabSession

    path = cam(str(tmp_path))
    write(str(tmp_path), "scene/Cam0.json", json.dumps(side_with(clip="far")))
    problems = TabSession().load([os.path.dirname(path)], folder=os.path.dirname(path))
    assert any(p.startswith("warning: sidecar ") and "'clip' 'far'" in p for p in problems)


def test_the_api_warnings_list_carries_map_warnings(tmp_path):
    from lib_scene.params import PlanParams
    from lib_scene.request import HostFacts, Scene, resolve

    path = depth_exr(str(tmp_path), NAN)
    preset = write(str(tmp_path), "p.json", json.dumps({"splits": [{"start": 1, "end": 9, "levels": 9}]}))
    (plan,) = resolve(
        Scene(os.path.dirname(path)), PlanParams.from_dict({"splits": preset, "long_side": 64}), HostFacts()
    )
    assert any("the depth map is all black" in w for w in plan.warnings)
