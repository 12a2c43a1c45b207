"""Scene Import's own HTTP routes (registered from ``on_app_started``).

* ``GET  /scene-import/v1/version``: name, version, API level, host, the dropdown and companion
  Scripts' API names (``script``, ``infotext_script``), whether ControlNet and Regional
  Prompter are installed;
* ``GET  /scene-import/v1/schema``: JSON Schema of the params object (plus the request keys);
* ``POST /scene-import/v1/plan``: ``{"files": [{"name", "data"}] | "scene": DIR, "params": {...},
  "host": "auto|a1111|forge", "unit_count": N}`` -> ``{"plans": [{"camera", "endpoint", "plan",
  "payload"}], "warnings"}``. The payload is the ready body for ``endpoint`` on this webui: one
  resolved seed, and our infotext through the companion Script (``alwayson_scripts["scene import
  infotext"]``), so the image it makes records Scene Import like a dropdown-Script image.

Refusals are 4xx JSON ``{"error": message, "problems": [...]}`` with the status of the error's type
(``errors.status_for``); a server bug is a 500 with a short message and its traceback in the server
log. The routes honour A1111's ``--api-auth`` like its own API.

(No ``from __future__ import annotations`` here: FastAPI resolves the handlers' annotations at
runtime, and ``Request`` is imported inside ``register``.)
"""

import logging
from dataclasses import replace

from lib_scene.errors import InputError, ParamsError, SceneImportError
from lib_scene.jsonio import parse_json
from lib_scene.params import params_schema
from lib_scene.request import parse_params
from lib_scene.wire import endpoint, to_payload

from . import API_NAME, INFOTEXT_SCRIPT, __version__
from .errors import RequestError, RequestTooLarge, status_for
from .hosts import ControlNetAdapter, RegionalPrompterAdapter, is_forge
from .runner import REQUEST_KEYS, ScriptRequest, host_facts, max_upload_bytes, plans_for_request

log = logging.getLogger("scene_import")

PREFIX = "/scene-import/v1"
API_LEVEL = 1
PLAN_KEYS = ("files", "scene", "params", "host", "unit_count")


def _runners():
    try:
        from modules import scripts

        return scripts.scripts_txt2img, scripts.scripts_img2img
    except (ImportError, AttributeError):
        return None, None


def version_info() -> dict:
    t2i, _ = _runners()
    cn = ControlNetAdapter(t2i)
    return {
        "name": "scene-import",
        "version": __version__,
        "api": API_LEVEL,
        "script": API_NAME,
        "infotext_script": INFOTEXT_SCRIPT,
        "host": "forge" if is_forge() else "a1111",
        "controlnet": cn.present,
        "controlnet_units": cn.slots if cn.present else None,
        "regional_prompter": RegionalPrompterAdapter(t2i).present,
    }


def schema() -> dict:
    s = params_schema()
    s["properties"]["files"] = {
        "type": "array",
        "description": "Script/API only: uploaded canvases, [{name: 'Cam0.exr', data: base64}] (.exr, .json, "
        ".properties, .txt)",
        "items": {"type": "object", "properties": {"name": {"type": "string"}, "data": {"type": "string"}}},
    }
    s["properties"]["upload"] = {"type": "string", "description": "UI only: an upload id"}
    return s


def plan_response(body: object, rng=None) -> dict:
    """The work of ``POST /plan`` (synchronous, raises on bad input): ``lib_scene.request.resolve``
    with this webui's facts; the payloads carry the one resolved seed."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    unknown = sorted(set(body) - set(PLAN_KEYS))
    if unknown:
        raise InputError(f"unknown request keys {unknown}; the body takes {list(PLAN_KEYS)}")
    raw = body.get("params") or {}
    if not isinstance(raw, dict):
        raise InputError("'params' must be an object")
    bad = [k for k in raw if k in REQUEST_KEYS]
    if bad:
        raise InputError(f"put {bad} at the top level of the body, not inside 'params'")
    host = body.get("host", "auto")
    if host not in ("auto", "a1111", "forge"):
        raise InputError(f"'host' must be auto, a1111 or forge, got {host!r}")
    facts = host_facts(_runners()[0])
    if host != "auto":
        facts = replace(facts, dialect=host)
    units = body.get("unit_count", facts.unit_count)
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= 16:
        raise InputError(f"'unit_count' must be an integer in [1, 16], got {units!r}")
    params = parse_params(raw, facts)
    if body.get("scene") is not None:
        params = params.replace(scene=body["scene"])
    req = ScriptRequest(params=params, files=body.get("files"))
    out = []
    warnings = []
    for plan in plans_for_request(req, facts, rng=rng):
        out.append(
            {
                "camera": plan.camera,
                "endpoint": endpoint(plan),
                "plan": plan.to_dict(),
                "payload": to_payload(plan, facts.dialect, units, infotext=True),
            }
        )
        warnings += [f"{plan.camera}: {w}" for w in plan.warnings]
    return {"version": __version__, "host": facts.dialect, "plans": out, "warnings": warnings}


def error_body(exc: BaseException) -> tuple[int, dict]:
    """(status, JSON body) for a failed request. Server bugs are logged with their traceback;
    refusals with one line (no traceback)."""
    status = status_for(exc)
    if isinstance(exc, SceneImportError):
        log.warning("Scene Import: refused a /plan request (HTTP %d): %s", status, exc)
    if isinstance(exc, ParamsError):
        return status, {"error": str(exc), "problems": exc.problems}
    if isinstance(exc, SceneImportError):
        return status, {"error": str(exc), "problems": []}
    log.error("Scene Import: unexpected error in a route", exc_info=exc)
    return status, {
        "error": f"internal error in Scene Import ({type(exc).__name__}); see the server log",
        "problems": [],
    }


def _auth_dependencies() -> list:
    try:
        from modules import shared
    except ImportError:
        return []
    auth = getattr(shared.cmd_opts, "api_auth", None)
    if not auth:
        return []
    from secrets import compare_digest

    from fastapi import Depends, HTTPException
    from fastapi.security import HTTPBasic, HTTPBasicCredentials

    creds = dict(a.split(":", 1) for a in auth.split(",") if ":" in a)

    def check(credentials: HTTPBasicCredentials = Depends(HTTPBasic())):  # noqa: B008 (FastAPI idiom)
        pw = creds.get(credentials.username)
        if pw is not None and compare_digest(credentials.password, pw):
            return True
        raise HTTPException(
            status_code=401, detail="Incorrect username or password", headers={"WWW-Authenticate": "Basic"}
        )

    return [Depends(check)]


def register(app) -> None:
    """Add the routes to A1111's FastAPI app."""
    from fastapi import Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    def error(exc: BaseException) -> JSONResponse:
        status, content = error_body(exc)
        return JSONResponse(status_code=status, content=content)

    async def get_version():
        return version_info()

    async def get_schema():
        return schema()

    async def post_plan(request: Request):
        limit = max_upload_bytes()
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        # base64 inflates by 4/3; allow for it plus the JSON around the files
        cap = limit * 4 // 3 + 2**20
        if length > cap:
            return error(
                RequestTooLarge(f"request of {length} bytes exceeds the upload limit ({limit // 2**20} MiB)")
            )
        try:
            raw = bytearray()
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > cap:
                    raise RequestTooLarge(f"request exceeds the upload limit ({limit // 2**20} MiB)")
            body = parse_json(bytes(raw) or b"null", "the request body", error=RequestError, max_bytes=cap)
            return await run_in_threadpool(plan_response, body)
        except Exception as exc:  # refusals are 4xx by type; a bug is a logged 500
            return error(exc)

    deps = _auth_dependencies()
    app.add_api_route(f"{PREFIX}/version", get_version, methods=["GET"], dependencies=deps)
    app.add_api_route(f"{PREFIX}/schema", get_schema, methods=["GET"], dependencies=deps)
    app.add_api_route(f"{PREFIX}/plan", post_plan, methods=["POST"], dependencies=deps)
