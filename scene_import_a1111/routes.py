"""Scene Import's own HTTP routes (registered from ``on_app_started``).

* ``GET  /scene-import/v1/version``: name, version, API level, host, whether ControlNet and Regional
  Prompter are installed;
* ``GET  /scene-import/v1/schema``: JSON Schema of the params object (plus the request keys);
* ``POST /scene-import/v1/plan``: ``{"files": [{"name", "data"}] | "scene": DIR, "params": {...},
  "host": "auto|a1111|forge", "unit_count": N}`` -> ``{"plans": [{"camera", "endpoint", "plan",
  "payload"}], "warnings"}``. The payload is the ready body for ``endpoint``.

Errors are 4xx JSON ``{"error": message, "problems": [...]}``, never a 500 stack trace. The routes
honour A1111's ``--api-auth`` like its own API.

(No ``from __future__ import annotations`` here: FastAPI resolves the handlers' annotations at
runtime, and ``Request`` is imported inside ``register``.)
"""

import json
import logging

from lib_scene.errors import CanvasError, SceneImportError
from lib_scene.params import ParamsError, PlanParams, params_schema
from lib_scene.paths import PathNotAllowed, UploadError
from lib_scene.plan import PlanError, to_payload

from . import API_NAME, __version__
from .hosts import ControlNetAdapter, RegionalPrompterAdapter, is_forge
from .runner import REQUEST_KEYS, ScriptRequest, max_upload_bytes, plans_for_request
from .settings import settings_defaults

log = logging.getLogger("scene_import")

PREFIX = "/scene-import/v1"
API_LEVEL = 1
PLAN_KEYS = ("files", "scene", "params", "host", "unit_count")


class RouteError(Exception):
    def __init__(self, status: int, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []


def status_for(exc: BaseException) -> int:
    if isinstance(exc, RouteError):
        return exc.status
    if isinstance(exc, PathNotAllowed):
        return 403
    if isinstance(exc, UploadError):
        return 413 if "exceed" in exc.problem else 400
    if isinstance(exc, (ParamsError, PlanError, CanvasError, SceneImportError)):
        return 422
    return 422


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
        "host": "forge" if is_forge() else "a1111",
        "controlnet": cn.present,
        "controlnet_units": cn.slots if cn.present else None,
        "regional_prompter": RegionalPrompterAdapter(t2i).present,
        "features": features(),
    }


def features() -> dict:
    """Which optional lib_scene parts this install has (regions: RP masks; normals: normal unit)."""
    import importlib.util

    return {
        name: importlib.util.find_spec(f"lib_scene.{name}") is not None for name in ("regions", "normals")
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


def plan_response(body: object) -> dict:
    """The work of ``POST /plan`` (synchronous, raises on bad input)."""
    if not isinstance(body, dict):
        raise RouteError(400, "the request body must be a JSON object")
    unknown = sorted(set(body) - set(PLAN_KEYS))
    if unknown:
        raise RouteError(422, f"unknown request keys {unknown}; the body takes {list(PLAN_KEYS)}")
    raw = body.get("params") or {}
    if not isinstance(raw, dict):
        raise RouteError(422, "'params' must be an object")
    bad = [k for k in raw if k in REQUEST_KEYS]
    if bad:
        raise RouteError(422, f"put {bad} at the top level of the body, not inside 'params'")
    params = PlanParams.from_dict(raw, base=settings_defaults())
    if body.get("scene") is not None:
        params = params.replace(scene=body["scene"])
    host = body.get("host", "auto")
    if host not in ("auto", "a1111", "forge"):
        raise RouteError(422, f"'host' must be auto, a1111 or forge, got {host!r}")
    t2i, _ = _runners()
    cn = ControlNetAdapter(t2i)
    if host == "auto":
        host = cn.host if cn.present else ("forge" if is_forge() else "a1111")
    units = body.get("unit_count", cn.slots if cn.present else 3)
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= 16:
        raise RouteError(422, f"'unit_count' must be an integer in [1, 16], got {units!r}")
    req = ScriptRequest(params=params, files=body.get("files"))
    plans = plans_for_request(req, cn.models() if cn.present else None)
    out = []
    warnings = []
    for plan in plans:
        out.append(
            {
                "camera": plan.camera,
                "endpoint": plan.endpoint,
                "plan": plan.to_dict(),
                "payload": to_payload(plan, host, units),
            }
        )
        warnings += [f"{plan.camera}: {w}" for w in plan.warnings]
    return {"version": __version__, "host": host, "plans": out, "warnings": warnings}


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
        status = status_for(exc)
        if isinstance(exc, RouteError):
            msg, problems = exc.message, exc.problems
        elif isinstance(exc, ParamsError):
            msg, problems = str(exc), exc.problems
        elif isinstance(exc, SceneImportError):
            msg, problems = str(exc), []
        else:
            log.exception("Scene Import: unexpected error in a route")
            msg, problems = f"could not build the plan ({type(exc).__name__}: {exc})", []
        return JSONResponse(status_code=status, content={"error": msg, "problems": problems})

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
                RouteError(413, f"request of {length} bytes exceeds the upload limit ({limit // 2**20} MiB)")
            )
        try:
            raw = bytearray()
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > cap:
                    raise RouteError(413, f"request exceeds the upload limit ({limit // 2**20} MiB)")
            try:
                body = json.loads(bytes(raw) or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise RouteError(400, f"the body is not valid JSON ({exc})") from exc
            return await run_in_threadpool(plan_response, body)
        except Exception as exc:  # every failure is a 4xx with a message, never a 500
            return error(exc)

    deps = _auth_dependencies()
    app.add_api_route(f"{PREFIX}/version", get_version, methods=["GET"], dependencies=deps)
    app.add_api_route(f"{PREFIX}/schema", get_schema, methods=["GET"], dependencies=deps)
    app.add_api_route(f"{PREFIX}/plan", post_plan, methods=["POST"], dependencies=deps)
