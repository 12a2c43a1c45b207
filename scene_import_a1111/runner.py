"""Apply GenerationPlans to A1111 processing objects and run them.

* ``apply_plan(p, plan)`` sets prompt, negative prompt, size, seed, (img2img) init image and
  denoise, rewrites ControlNet's and Regional Prompter's slices of a **list** copy of
  ``p.script_args`` (each slice keeps its length) and adds the infotext entries.
* ``run_plan(p, plans)`` generates one plan on ``p`` itself, or several (cameras) on shallow copies of
  ``p`` with one shared seed, merging the results into one ``Processed``. Chained plans (``chain``
  given, ``lib_scene.chain``): each camera after the first is an img2img inpaint of the earlier
  images warped into it, on an img2img processing object even when ``p`` is txt2img.
* ``generate(plans, img2img=False)`` is for callers without a ``p`` (the Scene Import tab's
  "Generate all cameras"): it builds ``p`` like A1111's API does and runs ``run_plan`` under the
  webui's queue lock.
* ``run_script(script, p, args)`` is the dropdown Script's ``run()``.
* ``host_facts(runner)`` is what the host offers (Settings defaults, ControlNet models/slots/dialect,
  Regional Prompter presence) for ``lib_scene.request.resolve``, which every entry point calls.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from lib_scene.animation import out_stem
from lib_scene.chain import ChainScene, ChainStopped, run_chain
from lib_scene.errors import (
    HostError,
    InputError,
    NotFoundError,
    ParamsError,
    PathNotAllowed,
    SceneImportError,
    UploadError,
    UploadTooLarge,
)
from lib_scene.jsonio import parse_json
from lib_scene.params import ParamsJSONError, PlanParams
from lib_scene.paths import confined_folder, decode_uploads, resolve_allowed, safe_upload_name, write_uploads
from lib_scene.plan import GenerationPlan
from lib_scene.request import HostFacts, Planned, Scene, chain_scene, parse_params, resolve_planned
from lib_scene.wire import cn_units, generation_fields, rp_args

from . import API_NAME, TITLE
from .conditioning import walking
from .depth2img import apply_depth2img
from .errors import for_api
from .hosts import ControlNetAdapter, RegionalPrompterAdapter, is_forge
from .settings import settings_defaults

log = logging.getLogger("scene_import")

#: Keys of the Script/API params dict that are not PlanParams: uploaded canvases.
REQUEST_KEYS = ("files", "upload")
DEFAULT_MAX_UPLOAD_MB = 512
#: Default bound of a request's generation long side (``--scene-import-max-long-side``).
DEFAULT_MAX_LONG_SIDE = 2048
UPLOADS_ROOT = os.path.join(tempfile.gettempdir(), "scene-import-uploads")
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_TTL_S = 24 * 3600


# --------------------------------------------------------------------------- configuration


def _cmd_opts():
    try:
        from modules import shared

        return shared.cmd_opts
    except ImportError:
        return None


def allowed_roots() -> list[str]:
    """The admin's ``--scene-import-allowed-dir`` folders (none: server folders are refused)."""
    opts = _cmd_opts()
    roots = getattr(opts, "scene_import_allowed_dir", None) or []
    if isinstance(roots, str):
        roots = [roots]
    return [os.path.abspath(r) for r in roots if r]


def max_long_side() -> int:
    """The admin's bound on the generation size one request may ask for (``--scene-import-max-long-side``)."""
    n = getattr(_cmd_opts(), "scene_import_max_long_side", None) or DEFAULT_MAX_LONG_SIDE
    return int(n)


def check_work(params: PlanParams) -> None:
    """Refuse a request asking for more work than the admin allows (before any canvas is read)."""
    limit = max_long_side()
    if params.long_side > limit:
        raise InputError(
            f"long_side {params.long_side} exceeds this webui's limit of {limit} pixels "
            "(the admin sets it with --scene-import-max-long-side)"
        )


def check_plans(plans: list[GenerationPlan]) -> None:
    """Refuse plans larger than the admin allows (long_side 0 keeps the canvas size)."""
    limit = max_long_side()
    for plan in plans:
        if max(plan.width, plan.height) > limit:
            raise InputError(
                f"camera {plan.camera}: {plan.width}x{plan.height} exceeds this webui's limit of {limit} "
                "pixels on the long side; ask for a smaller long_side (the admin sets the limit with "
                "--scene-import-max-long-side)"
            )


def max_upload_bytes() -> int:
    mb = getattr(_cmd_opts(), "scene_import_max_upload_mb", None) or DEFAULT_MAX_UPLOAD_MB
    return int(mb) * 2**20


# --------------------------------------------------------------------------- uploads


def new_upload_dir() -> tuple[str, str]:
    """A fresh folder for UI uploads: (id, path). Upload folders older than a day are removed."""
    os.makedirs(UPLOADS_ROOT, exist_ok=True)
    now = time.time()
    for name in os.listdir(UPLOADS_ROOT):
        path = os.path.join(UPLOADS_ROOT, name)
        try:
            if _UPLOAD_ID.match(name) and now - os.path.getmtime(path) > _UPLOAD_TTL_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
    uid = uuid.uuid4().hex
    path = os.path.join(UPLOADS_ROOT, uid)
    os.makedirs(path)
    return uid, path


def upload_dir(upload_id: object) -> str:
    if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
        raise UploadError(f"'upload' must be an upload id (32 hex digits), got {upload_id!r}")
    path = os.path.join(UPLOADS_ROOT, upload_id)
    if not os.path.isdir(path):
        raise NotFoundError("the uploaded canvases are gone (uploads are kept one day); upload them again")
    return path


def store_ui_upload(file_paths: list[str]) -> str:
    """Copy files gradio received into a new upload folder; returns its id. Size-limited."""
    limit = max_upload_bytes()
    total = sum(os.path.getsize(p) for p in file_paths)
    if total > limit:
        raise UploadTooLarge(f"uploads exceed the limit of {limit / 2**20:.0f} MiB")
    uid, dest = new_upload_dir()
    for p in file_paths:
        shutil.copyfile(p, os.path.join(dest, safe_upload_name(os.path.basename(p))))
    return uid


# --------------------------------------------------------------------------- requests


@dataclass
class ScriptRequest:
    """A validated Script/API request: the params plus where the canvases come from."""

    params: PlanParams
    files: list | None = None  # API: [{"name": ..., "data": base64}]
    upload: str | None = None  # UI: an upload id
    warnings: list[str] = field(default_factory=list)


def parse_request(raw: object, facts: HostFacts | None = None) -> ScriptRequest:
    """dict (API) or JSON text (UI) -> ScriptRequest, params read over the facts' (Settings) defaults;
    unknown keys are reported (ParamsError)."""
    if isinstance(raw, str):
        raw = parse_json(raw, "the params text", error=ParamsJSONError) if raw.strip() else {}
    if not isinstance(raw, dict):
        raise ParamsError([f"the params must be a JSON object, got {type(raw).__name__}"])
    rest = {k: v for k, v in raw.items() if k not in REQUEST_KEYS}
    params = parse_params(rest, facts or HostFacts(defaults=settings_defaults()))
    return ScriptRequest(params=params, files=raw.get("files"), upload=raw.get("upload"))


class Source:
    """Where one request's canvases are: a context manager that removes API temp uploads at exit."""

    def __init__(self, folder: str, temporary: bool, is_upload: bool):
        self.folder = folder
        self.temporary = temporary
        self.is_upload = is_upload

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

    def resolve(self, name: str, what: str) -> str:
        """A file the params name (splits preset, descriptions): relative to the scene folder, or an
        absolute path inside an allowed root."""
        roots = allowed_roots()
        if not os.path.isabs(name):
            try:
                return resolve_allowed(name, [self.folder])
            except PathNotAllowed:
                if self.is_upload:
                    raise PathNotAllowed(f"{what} {name!r} is not among the uploaded files") from None
        return resolve_allowed(name, roots)


def open_source(req: ScriptRequest) -> Source:
    given = [k for k, v in (("files", req.files), ("upload", req.upload), ("scene", req.params.scene)) if v]
    if not given:
        raise InputError(
            "no canvases: upload the camera's EXR files (with their .json sidecars) or name a server folder"
            " ('scene', inside an allowed folder)"
        )
    if len(given) > 1:
        raise InputError(f"give one canvas source, not {' and '.join(given)}")
    if req.files:
        files = decode_uploads(req.files, max_upload_bytes())
        os.makedirs(UPLOADS_ROOT, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="api-", dir=UPLOADS_ROOT)
        write_uploads(files, folder)
        return Source(folder, temporary=True, is_upload=True)
    if req.upload:
        return Source(upload_dir(req.upload), temporary=False, is_upload=True)
    return Source(confined_folder(str(req.params.scene), allowed_roots()), temporary=False, is_upload=False)


def _runner(runner: object = None) -> object:
    if runner is not None:
        return runner
    try:
        from modules import scripts

        return scripts.scripts_txt2img
    except (ImportError, AttributeError):
        return None


def host_facts(runner: object = None) -> HostFacts:
    """What this webui offers: the Settings defaults, ControlNet's models, slots and dialect, and
    whether ControlNet and Regional Prompter are installed (``runner``: a ScriptRunner; default
    txt2img's)."""
    runner = _runner(runner)
    cn = ControlNetAdapter(runner)
    models = cn.models() if cn.present else None
    return HostFacts(
        defaults=settings_defaults(),
        models=None if models is None else tuple(models),
        controlnet=cn.present,
        regional_prompter=RegionalPrompterAdapter(runner).present,
        dialect=cn.host if cn.present else ("forge" if is_forge() else "a1111"),
        unit_count=cn.slots if cn.present else 3,
    )


def planned_for_request(req: ScriptRequest, facts: HostFacts, rng=None) -> list[Planned]:
    """Open the request's canvases and resolve every selected camera (``lib_scene.request``), keeping
    the canvases (a chain warps with them); paths inside params are relative to the scene folder and
    confined to the allowed folders. The work one request may ask for is bounded (``check_work``,
    ``check_plans``), and an upload's server folder never shows in a message or a plan."""
    check_work(req.params)
    with open_source(req) as src:
        try:
            planned = resolve_planned(Scene(src.folder, resolve_path=src.resolve), req.params, facts, rng=rng)
        except SceneImportError as exc:
            raise scrubbed(exc, src.folder) if src.is_upload else exc from None
        if src.is_upload:  # the server's upload folder is nobody's business: file names only
            planned = [dataclasses.replace(pl, plan=_names_only(pl.plan)) for pl in planned]
    check_plans([pl.plan for pl in planned])
    return planned


def plans_for_request(req: ScriptRequest, facts: HostFacts, rng=None) -> list[GenerationPlan]:
    """:func:`planned_for_request`'s plans (``lib_scene.request.resolve``)."""
    return [pl.plan for pl in planned_for_request(req, facts, rng)]


def scrubbed(exc: SceneImportError, folder: str) -> SceneImportError:
    """``exc`` with the server's upload folder cut from its path and message (the names stay)."""
    prefix = os.path.join(folder, "")
    exc.path = exc.path.replace(prefix, "") if exc.path else exc.path
    exc.problem = exc.problem.replace(prefix, "")
    exc.args = tuple(a.replace(prefix, "") if isinstance(a, str) else a for a in exc.args)
    if isinstance(exc, ParamsError):
        exc.problems = [p.replace(prefix, "") for p in exc.problems]
    return exc


def _names_only(plan: GenerationPlan) -> GenerationPlan:
    files = [os.path.basename(str(f)) for f in plan.source.get("files", [])]
    return dataclasses.replace(plan, source={**plan.source, "files": files})


# --------------------------------------------------------------------------- applying


def _warn(p, text: str) -> None:
    log.warning("Scene Import: %s", text)
    if hasattr(p, "comment"):
        p.comment(f"Scene Import: {text}")


def apply_plan(p, plan: GenerationPlan, runner=None) -> list[str]:
    """Apply one plan to ``p`` (see the module doc). Returns the warnings (also logged and added to
    ``p``'s comments, which the UI shows under the images)."""
    plan.check()  # e.g. a caller's replaced prompt must still match the mask's colours
    warnings = list(plan.warnings)
    runner = runner if runner is not None else getattr(p, "scripts", None)
    cn = ControlNetAdapter(runner)
    rp = RegionalPrompterAdapter(runner)
    if (plan.regional is not None and not rp.present) or (plan.units and not cn.present):
        raise HostError(
            f"camera {plan.camera}: the plan needs "
            f"{'Regional Prompter' if plan.regional is not None and not rp.present else 'ControlNet'}, which "
            "this webui lacks; plan with the host's facts (scene_import_a1111.runner.host_facts)"
        )

    p.prompt = plan.prompt
    p.negative_prompt = plan.negative_prompt
    p.width, p.height = plan.width, plan.height
    p.seed = plan.seed
    for key in ("steps", "cfg_scale", "sampler_name"):
        if getattr(plan, key) is not None:
            setattr(p, key, getattr(plan, key))
    is_img2img = hasattr(p, "init_images")
    if plan.mode == "img2img":
        if is_img2img:
            from PIL import Image

            p.init_images = [Image.fromarray(np.ascontiguousarray(plan.init_image), "RGB")]
            p.denoising_strength = plan.denoising_strength
            p.resize_mode = 0
            _apply_mask(p, plan)
        else:
            warnings.append("an img2img plan in txt2img: generating without the beauty (use the img2img tab)")
    elif is_img2img:
        warnings.append("a txt2img plan in img2img: the tab's own init image is used")

    args = list(p.script_args or [])
    if plan.units:
        warnings += cn.write(args, cn_units(plan, cn.host))
    rp_values = rp_args(plan)
    if rp_values is not None:
        warnings += rp.write(args, rp_values)
    p.script_args = args
    if getattr(p, "extra_generation_params", None) is None:
        p.extra_generation_params = {}
    p.extra_generation_params.update(plan.infotext)
    # the key A1111's ScriptRunner pastes into the Script dropdown (PNG Info -> Send to txt2img);
    # A1111's own X/Y/Z plot writes it the same way
    p.extra_generation_params["Script"] = TITLE
    note = apply_depth2img(p, plan, lambda text: _warn(p, text))
    if note:
        warnings.append(note)
    for w in warnings:
        _warn(p, w)
    return warnings


def _apply_mask(p, plan: GenerationPlan) -> None:
    """An inpaint plan's mask and settings on an img2img ``p`` (A1111's ``image_mask``, white = paint);
    no mask: none (the whole picture)."""
    if plan.mask is None:
        p.image_mask = None
        return
    from PIL import Image

    p.image_mask = Image.fromarray(np.ascontiguousarray(plan.mask), "L")
    p.mask_blur = plan.mask_blur
    p.inpainting_fill = plan.inpainting_fill
    p.inpaint_full_res = plan.inpaint_full_res
    p.inpainting_mask_invert = 0


def _merge(p, results: list, seed: int):
    from modules import processing

    images, infotexts, prompts, negs, seeds, subseeds = [], [], [], [], [], []
    for r in results:
        images += list(r.images)
        infotexts += list(getattr(r, "infotexts", None) or [r.info] * len(r.images))
        prompts += list(r.all_prompts)
        negs += list(r.all_negative_prompts)
        seeds += list(r.all_seeds)
        subseeds += list(getattr(r, "all_subseeds", None) or [])
    comments = "".join(getattr(r, "comments", "") or "" for r in results)
    merged = processing.Processed(
        p,
        images,
        seed=seed,
        info=results[0].info,
        all_prompts=prompts,
        all_negative_prompts=negs,
        all_seeds=seeds,
        all_subseeds=subseeds or None,
        infotexts=infotexts,
    )
    merged.comments = comments
    return merged


def _copy(p):
    """A shallow copy of ``p`` with its own ``script_args`` list, infotext dict and comments."""
    pc = copy.copy(p)
    pc.script_args = list(p.script_args or [])
    pc.extra_generation_params = dict(p.extra_generation_params or {})
    pc.comments = dict(getattr(p, "comments", {}) or {})
    return pc


#: What a chained img2img step built for a txt2img ``p`` takes over from it (the UI's values).
_CARRIED_SETTINGS = ("steps", "cfg_scale", "sampler_name", "scheduler", "override_settings")


def _chain_processing(p, plan: GenerationPlan):
    """(processing object for one chained step, whether it was made here and must be closed):
    a copy of ``p`` when it can run the plan's mode, else an img2img one built like the API does."""
    if plan.mode != "img2img" or hasattr(p, "init_images"):
        pc = _copy(p)
        pc.n_iter = pc.batch_size = 1  # one image per camera: the next one warps it
        return pc, False
    pc = make_processing(plan, img2img=True)
    for key in _CARRIED_SETTINGS:
        value = getattr(p, key, None)
        if value is not None and getattr(plan, key, None) is None:
            setattr(pc, key, value)
    return pc, True


def run_chain_plans(p, plans: list[GenerationPlan], scene: ChainScene, process_images):
    """Generate chained plans (``lib_scene.chain.run_chain``): the first camera as planned, each next
    one an img2img inpaint of what the ones before it painted; one merged ``Processed``."""
    from modules import shared

    state = getattr(shared, "state", None)
    if state is not None:
        blend = PlanParams.from_dict(plans[0].params).chain.blend > 0 if plans[0].params else False
        state.job_count = len(plans) + (len(plans) - 1 if blend else 0)

    generated: list = []

    def generate(plan: GenerationPlan):
        if generated and state is not None and getattr(state, "interrupted", False):
            raise ChainStopped  # the cameras generated so far are returned
        pc, made = _chain_processing(p, plan)
        log.info("Scene Import: chain step %s: %s", plan.chain.get("step", 0) + 1, plan.camera)
        try:
            apply_plan(pc, plan)
            result = process_images(pc)
        finally:
            if made:
                pc.close()
        generated.append(result)
        return np.asarray(result.images[0].convert("RGB")), result

    results = run_chain(plans, scene, generate)
    return _merge(p, [r for cr in results for r in cr.results], plans[0].seed)


def run_plan(p, plans: list[GenerationPlan] | GenerationPlan, process_images=None, scene=None):
    """Generate ``plans`` on ``p`` and return A1111's ``Processed``.

    One plan: applied to ``p`` itself, then ``process_images(p)``. Several (cameras): each on a
    shallow copy of ``p`` (own ``script_args`` list, infotext dict and comments), one after the
    other; the results are merged in camera order. The plans carry their (one, resolved) seed.
    ``scene`` (a ``lib_scene.chain.ChainScene``): the plans are chained (:func:`run_chain_plans`).
    """
    from modules import processing, shared

    if isinstance(plans, GenerationPlan):
        plans = [plans]
    if not plans:
        raise NotFoundError("nothing to generate: no cameras")
    process_images = process_images or processing.process_images
    if scene is not None and len(plans) > 1:
        return run_chain_plans(p, plans, scene, process_images)
    if len(plans) == 1:
        apply_plan(p, plans[0])
        with walking(p, plans[0]):
            return process_images(p)
    seed = plans[0].seed
    state = getattr(shared, "state", None)
    if state is not None:
        state.job_count = len(plans) * int(getattr(p, "n_iter", 1) or 1)
    results = []
    for i, plan in enumerate(plans, 1):
        pc = _copy(p)
        log.info("Scene Import: %d/%d: %s", i, len(plans), out_stem(plan))
        apply_plan(pc, plan)
        with walking(pc, plan):
            results.append(process_images(pc))
        if state is not None and getattr(state, "interrupted", False):
            break
    return _merge(p, results, seed)


def default_script_args(runner) -> list:
    """The runner's UI defaults for every script arg (what A1111's API starts from), no script selected."""
    values = [getattr(c, "value", None) for c in getattr(runner, "inputs", [])]
    n = max([s.args_to or 0 for s in getattr(runner, "scripts", [])] + [len(values), 1])
    values += [None] * (n - len(values))
    values[0] = 0
    return values


def make_processing(plan: GenerationPlan, img2img: bool):
    """A processing object for ``plan`` built the way A1111's API builds one (no dropdown script)."""
    from modules import processing, scripts, shared

    opts = shared.opts
    runner = scripts.scripts_img2img if img2img else scripts.scripts_txt2img
    kw = {"sd_model": shared.sd_model, **generation_fields(plan)}
    if img2img:
        cls = processing.StableDiffusionProcessingImg2Img
        kw["init_images"] = []
        kw["outpath_samples"] = opts.outdir_samples or opts.outdir_img2img_samples
        kw["outpath_grids"] = opts.outdir_grids or opts.outdir_img2img_grids
    else:
        cls = processing.StableDiffusionProcessingTxt2Img
        kw["outpath_samples"] = opts.outdir_samples or opts.outdir_txt2img_samples
        kw["outpath_grids"] = opts.outdir_grids or opts.outdir_txt2img_grids
    p = cls(**kw)
    p.scripts = runner
    p.script_args = default_script_args(runner)
    return p


class TabHost:
    """What the Scene Import tab's "Generate all cameras" is given: ``run_plan(plan)`` generates one
    camera's plan (or a list of plans with one seed) and returns A1111's ``Processed`` (``.images``)."""

    def run_plan(self, plan):
        return generate(plan if isinstance(plan, list) else [plan])


def generate(plans: list[GenerationPlan], img2img: bool | None = None):
    """Generate every plan (camera) with one seed, for callers without a ``p`` (the tab).

    ``img2img`` None: img2img when the plans are img2img plans. Takes A1111's queue lock and
    ``shared.state`` job, like its own buttons; returns the merged ``Processed``.
    """
    from modules import shared
    from modules.call_queue import queue_lock

    if not plans:
        raise NotFoundError("nothing to generate: no cameras")
    if img2img is None:
        img2img = plans[0].mode == "img2img"
    with queue_lock:
        shared.state.begin(job="scene_import")
        try:
            p = make_processing(plans[0], img2img)
            try:
                return run_plan(p, plans)
            finally:
                p.close()
        finally:
            shared.state.end()


# --------------------------------------------------------------------------- the dropdown Script


def expected_arg_count(runner) -> int | None:
    scripts = getattr(runner, "scripts", None) or []
    ends = [s.args_to for s in scripts if getattr(s, "args_to", None) is not None]
    return max(ends) if ends else None


def check_script_args(script, p, args: tuple):
    """The one params value the Script received, or a clear error when ``script_args`` are shifted.

    A1111 slice-assigns an API request's ``script_args`` over the Script's one slot: ``[]`` deletes
    it (``run`` then gets the next script's default or nothing), a longer list inserts slots.
    """
    usage = f'send script_args: [{{...params...}}] (exactly one object) with script_name "{API_NAME}"'
    if len(args) != 1:
        raise InputError(f"{TITLE} received {len(args)} script args; {usage}")
    runner = getattr(p, "scripts", None)
    expected = expected_arg_count(runner)
    have = len(p.script_args or [])
    if expected is not None and have != expected:
        raise InputError(
            f"{TITLE}: script_args hold {have - expected:+d} slot(s) against this webui's scripts "
            f"(the request's script_args shifted the others); {usage}"
        )
    raw = args[0]
    if raw is None:
        raise InputError(f"{TITLE} received no params (null); {usage}")
    if not isinstance(raw, (dict, str)):
        raise InputError(
            f"{TITLE} received a {type(raw).__name__} ({str(raw)[:60]!r}) instead of its params object; "
            f"the script args are shifted or wrong; {usage}"
        )
    for adapter in (ControlNetAdapter(runner), RegionalPrompterAdapter(runner)):
        problem = adapter.slice_problem(p.script_args or [])
        if problem:
            raise InputError(f"{TITLE}: {problem}; {usage}")
    return raw


def _styled_prompts(p) -> tuple[str, str]:
    """The UI prompt and negative prompt with the selected styles folded in (styles would otherwise
    be appended after the last region section); clears ``p.styles``."""
    prompt, negative = p.prompt or "", p.negative_prompt or ""
    styles = list(getattr(p, "styles", None) or [])
    if styles:
        try:
            from modules import shared

            prompt = shared.prompt_styles.apply_styles_to_prompt(prompt, styles)
            negative = shared.prompt_styles.apply_negative_styles_to_prompt(negative, styles)
            p.styles = []
        except Exception as exc:  # keep A1111's own handling if its styles API differs
            log.warning("Scene Import: styles not folded into the base prompt: %s", exc)
    return prompt, negative


def run_script(script, p, args: tuple):
    """The dropdown Script's ``run(p, *args)``: validate, resolve every camera, apply, generate.

    On the API path (``p.is_api``) a refusal is raised as an HTTPException with its status, so
    A1111 answers 4xx without a traceback; in the UI it shows in the gallery's error box."""
    try:
        return _run_script(script, p, args)
    except SceneImportError as exc:
        if getattr(p, "is_api", False):
            raise for_api(exc) from exc
        raise


def _run_script(script, p, args: tuple):
    raw = check_script_args(script, p, args)
    runner = getattr(p, "scripts", None)
    facts = host_facts(runner)
    req = parse_request(raw, facts)
    is_img2img = bool(getattr(script, "is_img2img", hasattr(p, "init_images")))
    changes: dict = {"mode": "img2img" if is_img2img else "txt2img"}
    if not req.params.base_prompt or not req.params.negative_prompt:
        prompt, negative = _styled_prompts(p)
        if not req.params.base_prompt:
            changes["base_prompt"] = prompt
        if not req.params.negative_prompt:
            changes["negative_prompt"] = negative
    if req.params.seed == -1 and getattr(p, "seed", -1) not in (-1, None, ""):
        changes["seed"] = int(p.seed)
    req.params = req.params.replace(**changes)
    planned = planned_for_request(req, facts)
    return run_plan(p, [pl.plan for pl in planned], scene=chain_scene(planned))
