"""The ONE request resolver: (scene, params, host facts) -> every camera's ``GenerationPlan``.

Every entry point calls :func:`resolve` and nothing else: the dropdown Script, ``POST
/scene-import/v1/plan``, the tab's previews and its Generate, and the CLI's ``plan`` and ``run``.

* **One loop over cameras**: the scene's cameras (``params.camera`` filters; an unknown camera is a
  :class:`~lib_scene.errors.NotFoundError`), each planned by :func:`lib_scene.plan.build_plan`.
* **One seed rule**: ``params.seed == -1`` draws ONE seed (``rng`` or ``random.SystemRandom()``,
  ``randrange(2**32)``) written into every camera's plan; plans always carry a concrete seed.
* **Host facts decide the plan**: the Settings defaults params are read over, the host's ControlNet
  models, whether ControlNet and Regional Prompter are there (without ControlNet no units, without
  Regional Prompter a flat prompt; each with a warning).
* **One path rule**: a file named *inside* params (``splits`` preset, ``descriptions``) is relative to
  the scene folder, everywhere; the host passes a ``resolve_path`` that also confines it to the
  allowed folders. (The CLI makes its ``--splits``/``--descriptions`` flags absolute first.)
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from .animation import camera_frames, check_keyframes, plans_for_frame
from .canvas import KINDS, CameraSource, CanvasSet, discover, load_camera
from .chain import ChainScene, chain_order
from .descriptions import Descriptions, load_descriptions
from .errors import NotFoundError, ParamsError
from .jsonio import parse_json
from .params import ParamsJSONError, PlanParams
from .plan import GenerationPlan, MadeNormal, build_plan, plan_normal_map
from .splits import SplitPlan, load_preset

__all__ = [
    "HostFacts",
    "chain_scene",
    "Planned",
    "Scene",
    "draw_seed",
    "parse_params",
    "relative_to",
    "resolve",
    "resolve_planned",
    "select_cameras",
]

#: How a path named inside params becomes a file: (name, what it is for) -> path.
PathResolver = Callable[[str, str], str]


@dataclass(frozen=True)
class HostFacts:
    """What the host offers; the CLI without a webui uses the built-ins."""

    defaults: PlanParams = field(default_factory=PlanParams)  # Settings > Scene Import, or built-ins
    models: tuple[str, ...] | None = None  # host ControlNet models "name [hash8]"; None = unknown
    controlnet: bool = True  # ControlNet present
    regional_prompter: bool = True  # Regional Prompter present
    dialect: str = "a1111"  # "a1111" | "forge"
    unit_count: int = 3  # ControlNet slots
    infotext_script: bool = False  # Scene Import's companion Script is there: payloads carry our infotext


def relative_to(folder: str) -> PathResolver:
    """The default path rule: a relative name is relative to ``folder``; an absolute one is kept."""

    def resolve_path(name: str, what: str) -> str:
        return name if os.path.isabs(name) else os.path.join(folder, name)

    return resolve_path


@dataclass(frozen=True)
class Scene:
    """Where the canvases are."""

    folder: str  # the scene folder (absolute, already allowed); params' relative paths start here
    cameras: tuple[CanvasSet, ...] | None = None  # already-loaded canvases (the tab), else read paths
    resolve_path: PathResolver | None = None  # default: relative_to(folder)
    paths: tuple[str, ...] = ()  # files or folders to read (default: the folder)
    layer: str | None = None  # the EXR view layer to read (default: the first with a depth pass)
    descriptions: Descriptions | None = None  # already loaded (the tab's); used when params name no file

    def path(self, name: str, what: str) -> str:
        return (self.resolve_path or relative_to(self.folder))(name, what)


def parse_params(raw: Mapping[str, Any] | str | None, facts: HostFacts, **overrides: object) -> PlanParams:
    """Params from a dict or JSON text (empty: the defaults), read over ``facts.defaults``, then
    ``overrides`` (top-level or dotted keys) on top. Every problem is reported (ParamsError)."""
    data: object = raw
    if isinstance(raw, str):
        if not raw.strip():
            data = {}
        else:
            data = parse_json(raw, "the params text", error=ParamsJSONError)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ParamsError([f"the params must be a JSON object, got {type(data).__name__}"])
    params = PlanParams.from_dict(dict(data), base=facts.defaults)
    return params.replace(**overrides) if overrides else params


def draw_seed(rng: random.Random | None = None) -> int:
    """One random seed in A1111's range."""
    return (rng or random.SystemRandom()).randrange(2**32)


def select_cameras(names: Sequence[str], camera: str | None) -> list[str]:
    """The camera names ``camera`` selects (None/"": all; "a,b": several). Unknown names: NotFoundError."""
    if not camera:
        return list(names)
    wanted = [c.strip() for c in camera.split(",") if c.strip()]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise NotFoundError(
            f"no camera {', '.join(map(repr, missing))}; the scene has {', '.join(names) or 'none'}"
        )
    return [n for n in names if n in wanted]


@dataclass(frozen=True)
class Planned:
    """One camera's canvases and its plan (the CLI also writes the split test image from them)."""

    canvases: CanvasSet
    plan: GenerationPlan
    splits: SplitPlan | None


#: One selected camera: its frame numbers ([] for a still camera) and how to load a frame's canvases.
_Camera = tuple[str, list[int], Callable[[int | None], CanvasSet]]


def _load(
    scene: Scene, camera: str | None, need: Collection[str] | None = None
) -> tuple[list[str], list[_Camera]]:
    """(every camera name of the scene, the selected cameras; ``need``: the canvas kinds to
    assemble, default all)."""
    if scene.cameras is not None:
        by_name = {cs.camera: cs for cs in scene.cameras}
        picked = select_cameras(list(by_name), camera)
        return list(by_name), [(n, [], partial(_given, by_name[n])) for n in picked]
    sources: list[CameraSource] = discover(list(scene.paths or (scene.folder,)))
    by_src = {s.camera: s for s in sources}
    names = [s.camera for s in sources]
    out: list[_Camera] = []
    for n in select_cameras(names, camera):
        src = by_src[n]
        out.append((n, src.frame_numbers, partial(_read, src, scene.layer, need)))
    return names, out


def _given(cs: CanvasSet, frame: int | None) -> CanvasSet:
    return cs


def _read(src: CameraSource, layer: str | None, need: Collection[str] | None, frame: int | None) -> CanvasSet:
    cs = load_camera(src, layer=layer, need=need, frame=frame)
    if need is not None and "material" not in need and cs.object_index is None and not cs.cryptomatte:
        # the material index is the automatic region source of this camera after all
        cs = load_camera(src, layer=layer, need={*need, "material"}, frame=frame)
    return cs


def _plan_kinds(
    params: PlanParams, camera_params: Mapping[str, Mapping[str, object]] | None, beauty: bool
) -> frozenset[str] | None:
    """The canvas kinds a plan reads. txt2img never reads the beauty: it is not converted or
    stacked (a fifth of a plan's memory); a chain does (its holes are filled from it). The
    material index only makes regions: it is read when they come from it (asked for, or the
    automatic source of a camera with no object index and no Cryptomatte, :func:`_read`)."""
    kinds = set(KINDS) if beauty else set(KINDS - {"beauty"})
    if not camera_params and params.regions.source in ("auto", "index", "splits"):
        kinds.discard("material")
    return None if kinds == KINDS else frozenset(kinds)


def _chain_cameras(cameras: list[_Camera], params: PlanParams) -> list[_Camera]:
    """A chain's cameras in chain order, each loaded once (a sequence camera: its first frame; a
    chain runs one view per camera)."""
    loaded = [load(numbers[0] if numbers else None) for _, numbers, load in cameras]
    order = chain_order(loaded, params.chain.order)
    return [(cameras[i][0], [], partial(_given, loaded[i])) for i in order]


def _inputs(scene: Scene, params: PlanParams) -> tuple[SplitPlan | None, Descriptions | None]:
    """The split preset and descriptions files params name, read through the scene's path rule."""
    preset = (
        load_preset(scene.path(params.splits, "split preset")) if isinstance(params.splits, str) else None
    )
    descriptions = (
        load_descriptions(scene.path(params.descriptions, "descriptions file"))
        if params.descriptions
        else scene.descriptions
    )
    return preset, descriptions


def _camera_params(
    params: PlanParams, camera_params: Mapping[str, Mapping[str, object]] | None, names: Sequence[str]
) -> dict[str, PlanParams]:
    out: dict[str, PlanParams] = {}
    for cam, overrides in (camera_params or {}).items():
        if cam not in names:
            raise NotFoundError(f"per-camera params for {cam!r}; the scene has {', '.join(names) or 'none'}")
        if not isinstance(overrides, Mapping):
            raise ParamsError([f"per-camera params for {cam!r} must be an object"])
        try:
            out[cam] = PlanParams.from_dict(dict(overrides), base=params)
        except ParamsError as exc:
            raise ParamsError([f"camera {cam}: {p}" for p in exc.problems]) from exc
    return out


def _build(
    cs: CanvasSet,
    q: PlanParams,
    *,
    preset: SplitPlan | None,
    descriptions: Descriptions | None,
    facts: HostFacts,
    made_normal: MadeNormal | None = None,
) -> GenerationPlan:
    return build_plan(
        cs,
        q,
        preset,
        descriptions,
        available_models=list(facts.models) if facts.models is not None else None,
        controlnet=facts.controlnet,
        regional_prompter=facts.regional_prompter,
        made_normal=made_normal,
    )


def _normal_first(cs: CanvasSet, p: PlanParams, facts: HostFacts) -> tuple[CanvasSet, MadeNormal | None]:
    """The camera's normal map made now and its float normal canvas dropped, when the plans use
    the map and nothing after them needs the canvas (not a chain: its views reproject normals).
    The float canvas (805 MB at 8192²) then is not held through the depth and region stages.
    Keyframes and variations change prompts only, so every plan of the camera uses this map."""
    if cs.normal is None or p.chain.enabled or not (facts.controlnet and p.normal.enabled):
        return cs, None
    made = plan_normal_map(cs, p.normal_convention)
    return replace(cs, normal=None), made


def resolve_planned(
    scene: Scene,
    params: PlanParams,
    facts: HostFacts,
    *,
    camera_params: Mapping[str, Mapping[str, object]] | None = None,
    rng: random.Random | None = None,
) -> list[Planned]:
    """:func:`resolve`, keeping each camera's canvases and split plan."""
    img2img = params.mode == "img2img" or any(
        isinstance(o, Mapping) and o.get("mode") == "img2img" for o in (camera_params or {}).values()
    )
    names, cameras = _load(
        scene, params.camera, _plan_kinds(params, camera_params, img2img or params.chain.enabled)
    )
    if not cameras:
        raise NotFoundError("no cameras found (no EXR canvases)", scene.folder)
    if params.chain.enabled:  # chain order; every camera needs a pose (PoseError names the file)
        cameras = _chain_cameras(cameras, params)
    if params.seed == -1:
        params = params.replace(seed=draw_seed(rng))
    per_camera = _camera_params(params, camera_params, names)
    out: list[Planned] = []
    for name, numbers, load in cameras:
        p = per_camera.get(name, params)
        preset, descriptions = _inputs(scene, p)
        frames = camera_frames(numbers, p)
        for n, frame in enumerate(frames):
            cs, made = _normal_first(load(frame if numbers else None), p, facts)
            build = partial(
                _build, cs, preset=preset, descriptions=descriptions, facts=facts, made_normal=made
            )
            if n == 0:
                check_keyframes(build, p)
            for plan in plans_for_frame(build, p, frame):
                if params.chain.enabled:
                    plan = replace(plan, chain={"step": len(out), "order": [c[0] for c in cameras]})
                splits = (
                    None if plan.source.get("splits") is None else SplitPlan.from_dict(plan.source["splits"])
                )
                out.append(Planned(cs, plan, splits))
    return out


def chain_scene(planned: Sequence[Planned]) -> ChainScene | None:
    """The views and beauty a chained run needs (None when the plans are not chained)."""
    if not planned or not planned[0].plan.chain:
        return None
    tonemap = str(planned[0].plan.params.get("tonemap", "standard"))
    return ChainScene.of([p.canvases for p in planned], tonemap)


def resolve(
    scene: Scene,
    params: PlanParams,
    facts: HostFacts,
    *,
    camera_params: Mapping[str, Mapping[str, object]] | None = None,
    rng: random.Random | None = None,
) -> list[GenerationPlan]:
    """Every selected camera's plan, all with one concrete seed. See the module doc."""
    return [p.plan for p in resolve_planned(scene, params, facts, camera_params=camera_params, rng=rng)]
