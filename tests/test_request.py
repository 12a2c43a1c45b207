"""The one request resolver (lib_scene/request.py) and the one prompt module (lib_scene/prompt.py),
on real EXRs written with OpenEXR (tests/scenes.py)."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest
from scenes import write_two_cameras

from lib_scene.canvas import load_cameras
from lib_scene.errors import CanvasError, NotFoundError, ParamsError, PlanError, PresetError
from lib_scene.params import PlanParams
from lib_scene.plan import build_plan
from lib_scene.prompt import (
    RP_KEYWORDS,
    check_sections,
    compose,
    count_sections,
    escape_unbalanced,
    expected_sections,
    flat,
    keywords_in,
    neutralise,
    sanitize,
)
from lib_scene.regions import load_descriptions
from lib_scene.request import HostFacts, Scene, draw_seed, parse_params, relative_to, resolve, select_cameras
from lib_scene.splits import SplitPlan, save_preset

PRESET = {"version": 1, "curve": "linear", "splits": [{"start": 2.0, "end": 9.0, "levels": 256}]}


@pytest.fixture
def folder(tmp_path):
    write_two_cameras(tmp_path)
    return tmp_path


def _small(**kw):
    return PlanParams.from_dict({"long_side": 64, **kw})


# --------------------------------------------------------------------------- resolver


def test_one_seed_drawn_once_for_every_camera(folder):
    plans = resolve(Scene(str(folder)), _small(), HostFacts(), rng=random.Random(3))
    assert [p.camera for p in plans] == ["Cam0", "Cam1"]
    seed = random.Random(3).randrange(2**32)
    assert [p.seed for p in plans] == [seed, seed]
    assert all(json.loads(p.infotext["Scene Import params"])["seed"] == seed for p in plans)
    fixed = resolve(Scene(str(folder)), _small(seed=77), HostFacts(), rng=random.Random(3))
    assert [p.seed for p in fixed] == [77, 77]
    assert 0 <= draw_seed() < 2**32


def test_cameras_are_filtered_and_unknown_ones_named(folder):
    plans = resolve(Scene(str(folder)), _small(camera="Cam1", seed=1), HostFacts())
    assert [p.camera for p in plans] == ["Cam1"]
    with pytest.raises(NotFoundError, match="no camera 'Cam9', 'Cam8'; the scene has Cam0, Cam1"):
        resolve(Scene(str(folder)), _small(camera="Cam9,Cam8"), HostFacts())
    assert select_cameras(["a", "b", "c"], "c, a") == ["a", "c"] and select_cameras(["a"], None) == ["a"]
    empty = folder / "empty"
    empty.mkdir()
    with pytest.raises(CanvasError, match="no .exr files found"):
        resolve(Scene(str(empty)), _small(), HostFacts())


def test_loaded_cameras_give_the_same_plans_as_the_folder(folder):
    cams = tuple(load_cameras([str(folder)]))
    params = _small(seed=9, base_prompt="room")
    from_folder = resolve(Scene(str(folder)), params, HostFacts())
    from_loaded = resolve(Scene(str(folder), cameras=cams), params, HostFacts())
    assert [p.to_json() for p in from_folder] == [p.to_json() for p in from_loaded]
    assert [
        p.camera for p in resolve(Scene(str(folder), cameras=cams), _small(camera="Cam1"), HostFacts())
    ] == ["Cam1"]


def test_paths_inside_params_are_relative_to_the_scene_folder(folder, tmp_path, monkeypatch):
    save_preset(SplitPlan.from_dict(PRESET), str(folder / "mine.json"))
    (folder / "desc.txt").write_text("2 = a steel crate\n")
    monkeypatch.chdir(tmp_path.parent)
    params = _small(seed=1, splits="mine.json", descriptions="desc.txt", camera="Cam0")
    (plan,) = resolve(Scene(str(folder)), params, HostFacts())
    cs = load_cameras([str(folder / "Cam0.exr")])[0]
    want = build_plan(cs, params, SplitPlan.from_dict(PRESET), load_descriptions(str(folder / "desc.txt")))
    assert plan.to_json() == want.to_json() and "a steel crate" in plan.prompt
    assert plan.source["splits"]["curve"] == "linear"
    # the host's rule: every name goes through its resolver
    seen = []

    def confined(name, what):
        seen.append((name, what))
        return os.path.join(str(folder), name)

    resolve(Scene(str(folder), resolve_path=confined), params, HostFacts())
    assert seen == [("mine.json", "split preset"), ("desc.txt", "descriptions file")]
    assert (
        relative_to("/s")("a.json", "x") == "/s/a.json" and relative_to("/s")("/abs.json", "x") == "/abs.json"
    )
    with pytest.raises(PresetError):
        resolve(Scene(str(folder)), _small(splits="missing.json"), HostFacts())
    # already-loaded descriptions (the tab's) are used when params name no file
    loaded = load_descriptions(str(folder / "desc.txt"))
    (tab,) = resolve(Scene(str(folder), descriptions=loaded), _small(seed=1, camera="Cam0"), HostFacts())
    assert "a steel crate" in tab.prompt


def test_camera_params_override_per_camera_and_are_validated(folder):
    per = {"Cam1": {"splits": PRESET, "depth": {"weight": 0.9}}}
    plans = resolve(Scene(str(folder)), _small(seed=2), HostFacts(), camera_params=per)
    cam0, cam1 = plans
    assert cam0.units[0].weight == 0.3 and cam0.source["splits"] != cam1.source["splits"]
    assert cam1.units[0].weight == 0.9 and cam1.source["splits"]["curve"] == "linear"
    assert cam0.seed == cam1.seed == 2
    with pytest.raises(ParamsError, match="camera Cam1: depth.weight must be in"):
        resolve(Scene(str(folder)), _small(), HostFacts(), camera_params={"Cam1": {"depth.weight": 7}})
    with pytest.raises(NotFoundError, match="per-camera params for 'Cam7'; the scene has Cam0, Cam1"):
        resolve(Scene(str(folder)), _small(), HostFacts(), camera_params={"Cam7": {}})


def test_host_facts_decide_the_plan(folder):
    defaults = PlanParams.from_dict({"depth": {"weight": 0.45}})
    models = ("control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_normalbae [316696f1]")
    facts = HostFacts(defaults=defaults, models=models)
    params = parse_params({"long_side": 64, "seed": 4}, facts)
    (plan, _) = resolve(Scene(str(folder)), params, facts)
    assert [u.model for u in plan.units] == list(models) and plan.units[0].weight == 0.45
    bare = HostFacts(controlnet=False, regional_prompter=False)
    (flat_plan, _) = resolve(Scene(str(folder)), _small(seed=4, base_prompt="room"), bare)
    assert flat_plan.units == () and flat_plan.regional is None
    assert flat_plan.prompt == "room, a wooden box, a red ball, a green wall"
    assert any(w.startswith("Regional Prompter is not installed") for w in flat_plan.warnings)
    assert any(w.startswith("ControlNet is not installed") for w in flat_plan.warnings)


def test_parse_params_over_the_facts_defaults(folder):
    facts = HostFacts(defaults=PlanParams.from_dict({"seed": 5, "depth": {"weight": 0.4}}))
    assert parse_params(None, facts) == facts.defaults
    assert parse_params("  ", facts) == facts.defaults
    p = parse_params('{"normal": {"weight": 0.2}}', facts, base_prompt="x", **{"depth.weight": 0.6})
    assert (p.seed, p.depth.weight, p.normal.weight, p.base_prompt) == (5, 0.6, 0.2, "x")
    with pytest.raises(ParamsError, match="not valid JSON"):
        parse_params("{", facts)
    with pytest.raises(ParamsError, match="must be a JSON object, got list"):
        parse_params("[1]", facts)
    with pytest.raises(ParamsError, match="unknown parameter"):
        parse_params({"sead": 1}, facts)


def test_an_edited_prompt_that_does_not_fit_is_refused_by_the_resolver(folder):
    with pytest.raises(PlanError, match="camera Cam0: the edited prompt does not fit"):
        resolve(Scene(str(folder)), _small(prompt="just one section"), HostFacts())


# --------------------------------------------------------------------------- prompt module


def test_keyword_table_and_neutraliser():
    assert RP_KEYWORDS == ("ADDCOMM", "ADDBASE", "ADDCOL", "ADDROW", "ADDP", "BREAK", "AND")
    assert (
        neutralise("STANDARD BREAKFAST ADDCOMM addp AddPlant") == "STandARD breakFAST addcomm add-p Add-Plant"
    )
    assert keywords_in("a STANDARD addp") == ["ADDP", "AND"] and keywords_in("band") == []
    for k in RP_KEYWORDS:
        assert not keywords_in(neutralise(f"x{k}y {k.lower()}"))


def test_sanitiser_keeps_weights_and_case():
    w: list[str] = []
    assert sanitize("(masterpiece:1.2), Soft LIGHT [x]", w) == "(masterpiece:1.2), Soft LIGHT [x]" and w == []
    assert sanitize("(masterpiece:1.2, STANDARD lighting BREAK", w, "base prompt") == (
        "\\(masterpiece:1.2, STandARD lighting break"
    )
    assert len(w) == 2 and w[0].startswith("base prompt held BREAK, AND; neutralised")
    assert "unbalanced brackets escaped" in w[1]
    w.clear()
    sanitize("x AND y", w)
    assert w == [
        "description held AND; neutralised (Regional Prompter would split the prompt there and shift every "
        "region after it)"
    ]
    assert sanitize(None) == "" and sanitize(" a\r\n\tb\x00c ") == "a b c"
    assert sanitize(sanitize("a (b ] c")) == sanitize("a (b ] c") == "a \\(b \\] c"  # idempotent
    assert escape_unbalanced("\\(a") == ("\\(a", False) and escape_unbalanced("a)") == ("a\\)", True)


def test_composer_flat_and_counter():
    assert compose("room", ["a", "b"], True) == ("room BREAK a BREAK b", False)
    assert compose("", ["a"], True) == ("BREAK a", False)
    assert compose("room", ["a", "b"], False) == ("room ADDCOMM a BREAK b", True)
    assert compose("", ["a", "b"], False) == ("a BREAK b", False)
    assert compose(" room ", [], False) == ("room", False)
    assert flat(" room ", ["a", " ", "b"]) == "room, a, b" and flat("", []) == ""
    assert count_sections("a BREAK b ADDCOMM c ADDBASE d") == 4 and count_sections("") == 1
    assert (
        expected_sections("x", 0) == 1 and expected_sections("x", 2) == 3 and expected_sections("x", 1) == 2
    )
    assert expected_sections("x", 0, use_base=False) == 1
    assert expected_sections("x", 2, use_base=False) == 2 and expected_sections("c ADDCOMM x", 2, False) == 3


def test_section_check_messages():
    assert check_sections("s BREAK a BREAK b", 2) == (True, "3 sections = base + 2 regions")
    assert check_sections("a BREAK b", 2, use_base=False) == (True, "2 sections = 2 regions")
    ok, msg = check_sections("s BREAK a", 2)
    assert not ok and msg == "the prompt has 2 sections, but 2 regions need 3 (base + one per region)"
    ok, msg = check_sections("s BREAK a ADDROW b ADDCOL BREAK c", 2)
    assert not ok and msg.endswith(
        "it also holds ADDCOL, ADDROW, which Regional Prompter treats as separators"
    )
    assert check_sections("", 0) == (True, "no regions: a plain prompt")
    assert check_sections("room", 0) == (True, "no regions: a plain prompt")
    assert check_sections("a BREAK b", 0) == (False, "no regions, but the prompt has 2 sections")
    assert not check_sections("a addp", 0)[0]


def test_txt2img_plans_never_assemble_the_beauty(folder):
    from lib_scene.request import resolve_planned

    (t2i,) = resolve_planned(Scene(str(folder)), _small(camera="Cam0", seed=1), HostFacts())
    assert t2i.canvases.beauty is None and t2i.canvases.depth is not None
    assert t2i.canvases.object_index is not None
    (i2i,) = resolve_planned(Scene(str(folder)), _small(camera="Cam0", seed=1, mode="img2img"), HostFacts())
    assert i2i.canvases.beauty is not None and i2i.plan.init_image is not None
    per_camera = {"Cam0": {"mode": "img2img"}}
    (mixed,) = resolve_planned(
        Scene(str(folder)), _small(camera="Cam0", seed=1), HostFacts(), camera_params=per_camera
    )
    assert mixed.plan.init_image is not None
    # the plan without the beauty is the plan with it
    loaded = resolve(
        Scene(str(folder), cameras=load_cameras(str(folder))), _small(camera="Cam0", seed=1), HostFacts()
    )
    assert loaded[0].to_dict() == t2i.plan.to_dict()


def test_the_normal_map_is_made_first_and_the_float_normal_dropped(folder):
    """A plan's float normal canvas is dropped once its map is made (it is not held through the
    depth and region stages); the plans are those build_plan makes from the whole canvas set."""
    from lib_scene.request import resolve_planned

    cams = {cs.camera: cs for cs in load_cameras(str(folder))}
    assert cams["Cam0"].normal is not None
    for params in (_small(seed=1), _small(seed=1, normal_convention="midas")):
        planned = resolve_planned(Scene(str(folder)), params, HostFacts())
        assert [p.canvases.normal for p in planned] == [None, None]
        for p in planned:
            full = build_plan(cams[p.plan.camera], params)
            assert [u.kind for u in full.units] == ["depth", "normal"]
            assert p.plan.to_dict() == full.to_dict()
    # kept where nothing makes a map from it (the unit off, or no ControlNet)
    off = _small(seed=1, normal={"enabled": False})
    assert all(p.canvases.normal is not None for p in resolve_planned(Scene(str(folder)), off, HostFacts()))
    bare = HostFacts(controlnet=False)
    assert all(
        p.canvases.normal is not None for p in resolve_planned(Scene(str(folder)), _small(seed=1), bare)
    )


def test_a_failed_normal_map_made_first_warns_as_before(folder):
    """A world-space normal pass whose sidecar lost its matrix: the same warning either way."""
    from lib_scene.request import resolve_planned

    side = folder / "Cam0.json"
    data = json.loads(side.read_text(encoding="utf-8"))
    data.pop("matrix_world")
    side.write_text(json.dumps(data), encoding="utf-8")
    (got,) = resolve_planned(Scene(str(folder)), _small(camera="Cam0", seed=1), HostFacts())
    full = build_plan(load_cameras(str(folder))[0], _small(camera="Cam0", seed=1))
    assert [u.kind for u in got.plan.units] == ["depth"]
    assert any("normal map failed" in w for w in got.plan.warnings)
    assert got.plan.to_dict() == full.to_dict()


def test_a_plan_reads_the_material_index_only_for_material_regions(tmp_path):
    from scenes import sidecar, write_blender5

    from lib_scene.exr import write_exr
    from lib_scene.request import resolve_planned

    folder = tmp_path / "scene"
    folder.mkdir()
    write_blender5(str(folder / "Cam0.exr"))
    with open(folder / "Cam0.json", "w", encoding="utf-8") as fh:
        json.dump(sidecar("Cam0"), fh)
    (auto,) = resolve_planned(Scene(str(folder)), _small(seed=1), HostFacts())
    assert auto.canvases.material_index is None and auto.canvases.object_index is not None
    assert auto.plan.regions, "the object index made the regions"
    (mat,) = resolve_planned(Scene(str(folder)), _small(seed=1, regions={"source": "material"}), HostFacts())
    assert mat.canvases.material_index is not None and mat.plan.regions
    # without an object index the material index is the automatic source: read after all
    other = tmp_path / "noindex"
    other.mkdir()
    import OpenEXR

    img = OpenEXR.File(str(folder / "Cam0.exr"), separate_channels=True)
    parts = {
        str(dict(p.header)["name"]): {n: np.asarray(c.pixels) for n, c in p.channels.items()}
        for p in img.parts
        if "Object Index" not in str(dict(p.header)["name"])
    }
    write_exr(str(other / "Cam0.exr"), parts)
    (fallback,) = resolve_planned(Scene(str(other)), _small(seed=1), HostFacts())
    assert fallback.canvases.material_index is not None and fallback.plan.regions
    full = build_plan(load_cameras(str(other))[0], _small(seed=1))
    assert fallback.plan.to_dict() == full.to_dict()
