"""One browser session's scene (a ``gr.State``): camera sources, a small cache of loaded canvases
and previews, the immutable :class:`lib_scene.session.EditorState`, the staged upload folder and
the prompts the artist typed per camera."""

from __future__ import annotations

import os
import shutil
import threading
from collections import OrderedDict
from typing import Any

from lib_scene.canvas import CameraSource, CanvasSet, discover, load_camera
from lib_scene.depth import auto_plan
from lib_scene.descriptions import Descriptions, load_descriptions
from lib_scene.errors import SceneImportError
from lib_scene.plan import GenerationPlan
from lib_scene.preview import DepthIndex, Preview, prepare
from lib_scene.session import EditorState, camera_summary
from lib_scene.splits import SplitPlan

CACHE_CAMERAS = 3
DESCRIPTION_EXTS = (".properties", ".txt", ".json")


class TabSession:
    """What one browser session has loaded and decided."""

    def __init__(self) -> None:
        self.state = EditorState()
        self.sources: dict[str, CameraSource] = {}
        self.summaries: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.scene_folder: str | None = None
        self.upload_id: str | None = None  # set when the scene is a staged upload (runner's store)
        self.descriptions: Descriptions | None = None
        self.descriptions_file: str | None = None  # its name in the scene folder (params name it)
        self.unused_description_files: list[str] = []
        self.layout: Any = None  # the histogram's plot layout (for clicks on it)
        self.region_result: list[dict[str, Any]] | None = None
        self.region_stats: dict[tuple[str, str, str], Any] = {}  # (camera, source, splits) -> RegionStats
        self.prompts: dict[str, str] = {}  # camera -> the prompt as the artist typed it
        self.planned: dict[str, GenerationPlan] = {}  # camera -> its last previewed plan
        self.generated: dict[str, Any] = {}  # camera -> its last generated image (RGB8 array)
        self._canvases: OrderedDict[str, CanvasSet] = OrderedDict()
        self._previews: OrderedDict[str, Preview] = OrderedDict()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- loading
    def load(self, paths: list[str], folder: str | None = None) -> list[str]:
        """Discover and load every camera under ``paths``; a camera that fails is reported and
        left out, the others load. Returns the problems."""
        problems: list[str] = []
        cams: list[str] = []
        plans: dict[str, SplitPlan] = {}
        summaries: dict[str, dict[str, Any]] = {}
        src_by: dict[str, CameraSource] = {}
        canvases: OrderedDict[str, CanvasSet] = OrderedDict()
        for src in discover(paths):
            cs = _load_one(src, problems)
            if cs is None:
                continue
            summaries[cs.camera] = camera_summary(cs)
            problems.extend(f"warning: {w}" for w in cs.warnings)  # the honest notes, shown on load
            if cs.depth is None or cs.hit is None or not cs.hit.any():
                why = "no depth canvas" if cs.depth is None else "no pixel of the depth canvas hit anything"
                problems.append(f"{cs.primary_path}: camera {cs.camera!r} has {why}; it cannot be edited")
                continue
            cams.append(cs.camera)
            src_by[cs.camera] = src
            plans[cs.camera] = auto_plan(cs.depth, cs.hit)
            canvases[cs.camera] = cs
            while len(canvases) > CACHE_CAMERAS:
                canvases.popitem(last=False)
        if not cams:
            raise SceneImportError(
                "no camera with a usable depth canvas" + (": " + "; ".join(problems) if problems else ""),
                paths[0] if len(paths) == 1 else None,
            )
        self.sources, self.summaries, self._canvases = src_by, summaries, canvases
        self._previews = OrderedDict()
        self.scene_folder = folder
        self.state = EditorState().loaded(cams, plans)
        self.region_result = None
        self.region_stats = {}
        self.prompts = {}
        self.planned = {}
        self.generated = {}
        self.problems = problems
        return problems

    def load_descriptions(self, files: list[str]) -> list[str]:
        """The scene's descriptions: the first of ``files`` (params name one descriptions file, so
        the Script and the tab read the same one; the others are listed as not used). Returns
        the problems."""
        self.descriptions, self.descriptions_file = None, None
        self.unused_description_files = [os.path.basename(f) for f in files[1:]]
        if not files:
            return []
        try:
            self.descriptions = load_descriptions(files[0])
        except SceneImportError as exc:
            return [str(exc)]
        self.descriptions_file = os.path.basename(files[0])
        return []

    def canvas(self, camera: str | None = None) -> CanvasSet:
        cam = camera or self.state.current
        if cam is None:
            raise SceneImportError("load a scene first")
        with self._lock:
            cs = self._canvases.get(cam)
            if cs is None:
                cs = load_camera(self.sources[cam])
                self._canvases[cam] = cs
            self._canvases.move_to_end(cam)
            while len(self._canvases) > CACHE_CAMERAS:
                self._canvases.popitem(last=False)
        return cs

    def preview(self, camera: str | None = None) -> Preview:
        cam = camera or self.state.current
        if cam is None:
            raise SceneImportError("load a scene first")
        pv = self._previews.get(cam)
        if pv is None:
            pv = prepare(self.canvas(cam))
            with self._lock:
                self._previews[cam] = pv
                while len(self._previews) > CACHE_CAMERAS:
                    self._previews.popitem(last=False)
        return pv

    def depth_index(self, camera: str | None = None) -> DepthIndex:
        """The camera's depth histogram index (a camera without hits has none)."""
        idx = self.preview(camera).index
        if idx is None:
            raise SceneImportError(f"camera {camera or self.state.current} has no depth hits")
        return idx

    # ----------------------------------------------------------------- uploads
    def stage(self, paths: list[str]) -> str:
        """Copy gradio's uploads into one folder of the Script's upload store (the same name
        checks, size cap and one-day cleanup as the dropdown Script's uploads); returns it. The
        Script reopens it by ``upload`` id after "Send to txt2img"."""
        from scene_import_a1111 import runner

        names = [os.path.basename(p) for p in paths]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SceneImportError(f"two uploads are both named {dup[0]!r}")
        self.upload_id = runner.store_ui_upload(paths)
        return runner.upload_dir(self.upload_id)

    def discard(self) -> None:
        """Remove this session's staged upload folder (the scene was replaced)."""
        from scene_import_a1111 import runner

        if self.upload_id is None:
            return
        folder = os.path.join(runner.UPLOADS_ROOT, self.upload_id)
        self.upload_id = None
        shutil.rmtree(folder, ignore_errors=True)


def _load_one(src: CameraSource, problems: list[str]) -> CanvasSet | None:
    try:
        return load_camera(src)
    except SceneImportError as exc:
        problems.append(str(exc))
    except Exception as exc:  # a broken file must never break the tab
        problems.append(f"{next(iter(src.files.values()))}: cannot be read ({exc})")
    return None


def replace_session(old: TabSession | None, new: TabSession) -> TabSession:
    """``new`` takes over: the old session's staged upload folder is removed."""
    if old is not None and old is not new and old.upload_id != new.upload_id:
        old.discard()
    return new
