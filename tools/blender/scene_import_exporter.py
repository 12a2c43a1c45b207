"""Scene Import exporter: Blender add-on *and* command-line script.

Annotation workflow for the Scene Import A1111 extension:

* every object gets a ``Description`` (``Object.scene_import_description``,
  shown in Object properties > "Scene Import"); a hand-made custom property
  ``obj["Description"]`` is honoured when the add-on property is empty;
* objects sharing one description share one pass index (1, 2, 3 ... ordered
  by the alphabetically first object name of each description); objects
  without a description get pass index 0;
* the view layer gets the passes Combined, Z (Depth), Normal, Object Index and
  Material Index; output is OpenEXR multilayer, 32-bit float, ZIP, Blender 5's
  default multi-part layout (one part per pass);
* every camera (or a chosen list) is rendered to ``<out>/<Camera>.exr`` and a
  sidecar ``<out>/<Camera>.json`` is written next to it.

Command line (bpy wheel, or inside Blender)::

    python scene_import_exporter.py --blend FILE.blend --out DIR \
        [--cameras Cam0,Cam1] [--samples 16] [--resolution 512x384]
    blender -b FILE.blend -P scene_import_exporter.py -- --out DIR

The pure-Python helpers (``assign_pass_indices``, ``build_sidecar``,
``scaled_resolution``, ``parse_resolution``, ``parse_args``) do not need bpy
and can be imported and tested anywhere.
"""

# No `from __future__ import annotations`: Blender reads the operator's
# property annotations at registration.
import argparse
import json
import math
import os
import shutil
import sys
import tempfile

try:  # Pure helpers stay importable without Blender.
    import bpy  # type: ignore
except ImportError:  # pragma: no cover - exercised outside Blender
    bpy = None

bl_info = {
    "name": "Scene Import exporter",
    "author": "Scene Import project",
    "version": (1, 0, 0),
    "blender": (4, 2, 0),
    "location": "Properties > Object > Scene Import; Properties > Output > Scene Import",
    "description": "Describe objects, assign pass indices, render every camera to "
    "multi-pass EXR with a JSON camera sidecar for Scene Import",
    "category": "Render",
}

SIDECAR_FORMAT_VERSION = 1
PROP_NAME = "scene_import_description"  # registered RNA property on Object
CUSTOM_PROP = "Description"  # hand-made custom property, also honoured
GEOMETRY_TYPES = ("MESH", "CURVE", "SURFACE", "META", "FONT", "CURVES", "POINTCLOUD", "VOLUME")


# ---------------------------------------------------------------------------
# Pure-Python helpers (no bpy)
# ---------------------------------------------------------------------------


def normalize_description(value) -> str:
    """Description text as stored: str, stripped; anything else -> ''."""
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            value = str(value)
        except Exception:
            return ""
    return " ".join(value.split())


def assign_pass_indices(descriptions):
    """Map object name -> pass index.

    ``descriptions`` is a mapping (or iterable of pairs) object name ->
    description (empty/None = no description).  Objects sharing one
    description share one index.  Indices 1, 2, 3 ... are given to the
    descriptions ordered by the smallest object name that carries them, so the
    numbering is stable whatever order the objects come in.  Objects without a
    description get 0.
    """
    items = dict(descriptions).items()
    first_name = {}
    for name, desc in items:
        desc = normalize_description(desc)
        if not desc:
            continue
        if desc not in first_name or name < first_name[desc]:
            first_name[desc] = name
    order = sorted(first_name, key=lambda d: (first_name[d], d))
    index_of = {desc: i + 1 for i, desc in enumerate(order)}
    result = {}
    for name, desc in items:
        desc = normalize_description(desc)
        result[name] = index_of.get(desc, 0) if desc else 0
    return result


def scaled_resolution(res_x: int, res_y: int, percentage: int = 100):
    """Rendered size [width, height] as Blender computes it (integer math)."""
    return [int(res_x) * int(percentage) // 100, int(res_y) * int(percentage) // 100]


def parse_resolution(text: str):
    """'512x384' -> (512, 384)."""
    parts = text.lower().replace("*", "x").split("x")
    if len(parts) != 2:
        raise ValueError(f"resolution must look like 512x384, got {text!r}")
    w, h = int(parts[0]), int(parts[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"resolution must be positive, got {text!r}")
    return w, h


def _round(v, nd=6):
    v = float(v)
    if math.isfinite(v):
        v = round(v, nd)
        return 0.0 if v == 0 else v
    return v


def build_sidecar(
    camera, matrix_world, lens_mm, sensor_width_mm, sensor_fit, clip, resolution, objects, **extra
):
    """Build the interchange sidecar dict.

    matrix_world: 4x4 camera-to-world, row-major (rows as Blender lists them).
    clip: (start, end).  resolution: [width, height] after the percentage.
    objects: {name: {"pass_index": int, "Description": str, "location": [x, y, z], ...}}
    Extra keyword arguments become extra top-level keys.
    """
    rows = [[_round(x) for x in row] for row in matrix_world]
    if len(rows) != 4 or any(len(r) != 4 for r in rows):
        raise ValueError("matrix_world must be 4x4")
    out = {
        "camera": str(camera),
        "matrix_world": rows,
        "lens_mm": _round(lens_mm),
        "sensor_width_mm": _round(sensor_width_mm),
        "sensor_fit": str(sensor_fit),
        "clip": [_round(clip[0]), _round(clip[1])],
        "resolution": [int(resolution[0]), int(resolution[1])],
        "objects": {},
    }
    for name in sorted(objects):
        o = dict(objects[name])
        entry = {
            "pass_index": int(o.pop("pass_index")),
            "Description": str(o.pop("Description")),
            "location": [_round(x) for x in o.pop("location")],
        }
        entry.update(o)
        out["objects"][name] = entry
    out.update(extra)
    return out


def split_argv(argv):
    """Script arguments: after '--' if present (blender -P ... -- args);
    else argv[1:] when run as `python script.py args`; else none (inside
    Blender without '--')."""
    if "--" in argv:
        return argv[argv.index("--") + 1 :]
    if argv and argv[0].endswith(".py"):
        return argv[1:]
    return []


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scene_import_exporter.py",
        description="Assign pass indices by description and render every camera "
        "to <out>/<Camera>.exr + <Camera>.json",
    )
    p.add_argument("--blend", help=".blend file to open (default: act on the current scene)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--cameras", default="", help="comma-separated camera object names (default: all)")
    p.add_argument("--samples", type=int, default=0, help="Cycles samples (0 = keep the file's)")
    p.add_argument("--resolution", default="", help="WxH, sets percentage to 100 (default: keep)")
    p.add_argument("--scene", default="", help="scene name (default: the active scene)")
    p.add_argument("--view-layer", default="", help="view layer to render (default: the active one)")
    p.add_argument(
        "--engine",
        default="CYCLES",
        help="render engine, or 'keep' (EEVEE has no Object Index pass; default CYCLES)",
    )
    p.add_argument("--device", default="", choices=["", "CPU", "GPU"], help="Cycles device (default: keep)")
    p.add_argument(
        "--color-depth",
        default="32",
        choices=["32", "16"],
        help="EXR float depth (default 32; 16 = half Combined, data passes stay float32)",
    )
    p.add_argument(
        "--cryptomatte",
        type=int,
        default=0,
        metavar="LEVELS",
        help="also write the Cryptomatte object pass with this many levels (ranked id/coverage "
        "pairs; 0 = off, Blender's default is 6)",
    )
    p.add_argument("--no-render", action="store_true", help="only assign indices and write sidecars")
    p.add_argument("--save-blend", default="", help="save the prepared .blend here (optional)")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
# bpy-side functions
# ---------------------------------------------------------------------------


def object_description(obj) -> str:
    """The add-on property if set, else the custom property 'Description'."""
    desc = ""
    try:
        desc = getattr(obj, PROP_NAME, "") or ""
    except Exception:
        desc = ""
    if not desc:
        try:  # stored in the file but add-on not registered
            desc = obj.get(PROP_NAME, "") or ""
        except Exception:
            desc = ""
    if not normalize_description(desc):
        try:
            desc = obj.get(CUSTOM_PROP, "") or ""
        except Exception:
            desc = ""
    return normalize_description(desc)


def scene_geometry_objects(scene):
    return [o for o in scene.objects if o.type in GEOMETRY_TYPES]


def apply_pass_indices(scene):
    """Set Object.pass_index from descriptions. Returns {name: (index, desc)}."""
    objs = scene_geometry_objects(scene)
    descs = {o.name: object_description(o) for o in objs}
    idx = assign_pass_indices(descs)
    for o in objs:
        if o.pass_index != idx[o.name]:
            o.pass_index = idx[o.name]
    return {name: (idx[name], descs[name]) for name in descs}


def pick_view_layer(scene, name=""):
    if name:
        vl = scene.view_layers.get(name)
        if vl is None:
            raise ValueError(f"no view layer {name!r} in scene {scene.name!r}")
        return vl
    ctx_vl = getattr(bpy.context, "view_layer", None)
    if ctx_vl is not None and bpy.context.scene == scene:
        return ctx_vl
    for vl in scene.view_layers:
        if vl.use:
            return vl
    return scene.view_layers[0]


def configure_output(
    scene,
    view_layer,
    samples=0,
    resolution=None,
    engine="CYCLES",
    device="",
    color_depth="32",
    cryptomatte=0,
):
    """Passes + EXR multilayer float ZIP multi-part; only `view_layer` renders.

    color_depth "32" (default, full float) or "16" (half: Blender then stores
    Combined as half but keeps the data passes - Depth, Normal, indices - float32).
    cryptomatte > 0 adds the Cryptomatte object pass with that many levels (the
    manifest with the object names goes into the EXR header)."""
    r = scene.render
    if engine and engine.upper() != "KEEP":
        r.engine = engine.upper()
    if r.engine == "CYCLES":
        if samples:
            scene.cycles.samples = int(samples)
        if device:
            scene.cycles.device = device
    elif samples and hasattr(scene, "eevee"):
        scene.eevee.taa_render_samples = int(samples)
    if resolution:
        r.resolution_x, r.resolution_y = resolution
        r.resolution_percentage = 100

    for vl in scene.view_layers:
        vl.use = vl == view_layer
    view_layer.use_pass_combined = True
    view_layer.use_pass_z = True
    view_layer.use_pass_normal = True
    view_layer.use_pass_object_index = True
    view_layer.use_pass_material_index = True
    if cryptomatte:
        view_layer.use_pass_cryptomatte_object = True
        view_layer.pass_cryptomatte_depth = int(cryptomatte)
        if hasattr(view_layer, "use_pass_cryptomatte_accurate"):
            view_layer.use_pass_cryptomatte_accurate = True

    ims = r.image_settings
    if hasattr(ims, "media_type"):  # Blender 5.0+: multilayer is a media type
        ims.media_type = "MULTI_LAYER_IMAGE"
    ims.file_format = "OPEN_EXR_MULTILAYER"
    ims.color_depth = str(color_depth)
    ims.exr_codec = "ZIP"
    if hasattr(ims, "use_exr_interleave"):  # False = Blender 5 default multi-part
        ims.use_exr_interleave = False
    if hasattr(ims, "use_preview"):
        ims.use_preview = False
    r.use_file_extension = True
    # Write the render result as is (no compositor / sequencer re-mixing).
    r.use_compositing = False
    r.use_sequencer = False


def scene_cameras(scene, names=None):
    cams = sorted((o for o in scene.objects if o.type == "CAMERA"), key=lambda o: o.name)
    if names:
        by_name = {o.name: o for o in cams}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise ValueError(f"cameras not found: {missing}; have {sorted(by_name)}")
        cams = [by_name[n] for n in names]
    return cams


def _world_bbox(obj):
    from mathutils import Vector  # type: ignore

    pts = [obj.matrix_world @ Vector(c) for c in obj.bound_box]
    return ([min(p[i] for p in pts) for i in range(3)], [max(p[i] for p in pts) for i in range(3)])


def camera_sidecar(scene, cam, view_layer, indices):
    """Sidecar dict for one camera (scene state: after apply_pass_indices)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    cam_eval = cam.evaluated_get(depsgraph)
    mw = cam_eval.matrix_world
    cam_pos = mw.translation
    objects = {}
    for o in scene_geometry_objects(scene):
        index, desc = indices.get(o.name, (0, ""))
        if not desc:
            continue
        oe = o.evaluated_get(depsgraph)
        loc = oe.matrix_world.translation
        bmin, bmax = _world_bbox(oe)
        objects[o.name] = {
            "pass_index": index,
            "Description": desc,
            "location": list(loc),
            "type": o.type,
            "bbox_min": [_round(v) for v in bmin],
            "bbox_max": [_round(v) for v in bmax],
            "distance": _round((loc - cam_pos).length),
            "hide_render": bool(o.hide_render),
        }
    data = cam.data
    r = scene.render
    return build_sidecar(
        camera=cam.name,
        matrix_world=[list(row) for row in mw],
        lens_mm=data.lens,
        sensor_width_mm=data.sensor_width,
        sensor_fit=data.sensor_fit,
        clip=(data.clip_start, data.clip_end),
        resolution=scaled_resolution(r.resolution_x, r.resolution_y, r.resolution_percentage),
        objects=objects,
        view_layer=view_layer.name,
        blender_version=bpy.app.version_string,
        render_engine=r.engine,
        # further extras (informative; readers may ignore them)
        format_version=SIDECAR_FORMAT_VERSION,
        scene=scene.name,
        camera_type=data.type,
        sensor_height_mm=_round(data.sensor_height),
        shift=[_round(data.shift_x), _round(data.shift_y)],
        ortho_scale=_round(data.ortho_scale),
        pixel_aspect=[_round(r.pixel_aspect_x), _round(r.pixel_aspect_y)],
        unit_scale=_round(scene.unit_settings.scale_length),
        frame=scene.frame_current,
        samples=int(scene.cycles.samples) if r.engine == "CYCLES" else None,
        color_depth=r.image_settings.color_depth,
        exr_layout="multipart"
        if not getattr(r.image_settings, "use_exr_interleave", False)
        else "interleaved",
        passes=["Combined", "Depth", "Normal", "Object Index", "Material Index"]
        + (["CryptoObject"] if getattr(view_layer, "use_pass_cryptomatte_object", False) else []),
        depth_units="scene units (planar camera Z); Cycles writes 1e10 where nothing is hit",
        normal_space="world",
    )


_NUM_LIST = None


def dumps_sidecar(data) -> str:
    """JSON text with indent 1, but lists of plain numbers kept on one line."""
    global _NUM_LIST
    import re

    if _NUM_LIST is None:
        _NUM_LIST = re.compile(r"\[\s*(-?[0-9][^\[\]{}\"]*?)\s*\]")
    text = json.dumps(data, indent=1, ensure_ascii=False)
    return _NUM_LIST.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(dumps_sidecar(data))
        fh.write("\n")
    os.replace(tmp, path)


def render_camera(scene, cam, out_dir):
    """Render `cam` to exactly <out_dir>/<cam.name>.exr."""
    final = os.path.join(out_dir, cam.name + ".exr")
    tmp_dir = tempfile.mkdtemp(prefix=".si_render_", dir=out_dir)
    try:
        scene.camera = cam
        scene.render.filepath = os.path.join(tmp_dir, "render")
        bpy.ops.render.render(write_still=True, scene=scene.name)
        produced = sorted(f for f in os.listdir(tmp_dir) if f.lower().endswith(".exr"))
        if len(produced) != 1:
            raise RuntimeError(f"expected one EXR from the render, found {produced}")
        os.replace(os.path.join(tmp_dir, produced[0]), final)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return final


_SAVED_ATTRS = (
    ("render", "engine"),
    ("cycles", "samples"),
    ("cycles", "device"),
    ("render", "filepath"),
    ("render", "use_compositing"),
    ("render", "use_sequencer"),
    ("render", "use_file_extension"),
    ("render.image_settings", "media_type"),
    ("render.image_settings", "file_format"),
    ("render.image_settings", "color_depth"),
    ("render.image_settings", "exr_codec"),
    ("render.image_settings", "use_exr_interleave"),
    ("render.image_settings", "use_preview"),
)


def _resolve(scene, path):
    obj = scene
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _snapshot(scene):
    snap = {"camera": scene.camera, "view_layers": {vl.name: vl.use for vl in scene.view_layers}}
    for owner, attr in _SAVED_ATTRS:
        try:
            o = _resolve(scene, owner)
        except AttributeError:
            continue
        if hasattr(o, attr):
            snap[(owner, attr)] = getattr(o, attr)
    return snap


def _restore(scene, snap):
    scene.camera = snap["camera"]
    for vl in scene.view_layers:
        if vl.name in snap["view_layers"]:
            vl.use = snap["view_layers"][vl.name]
    for owner, attr in _SAVED_ATTRS:
        if (owner, attr) in snap:
            try:
                setattr(_resolve(scene, owner), attr, snap[(owner, attr)])
            except Exception:
                pass


def export_scene(
    scene,
    out_dir,
    cameras=None,
    samples=0,
    resolution=None,
    view_layer_name="",
    engine="CYCLES",
    device="",
    render=True,
    restore=False,
    log=print,
    color_depth="32",
    cryptomatte=0,
):
    """Assign indices, configure passes, render cameras, write sidecars.

    Returns a list of (exr_path or None, json_path)."""
    out_dir = os.path.abspath(bpy.path.abspath(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    snap = _snapshot(scene) if restore else None
    results = []
    try:
        indices = apply_pass_indices(scene)
        view_layer = pick_view_layer(scene, view_layer_name)
        configure_output(
            scene,
            view_layer,
            samples=samples,
            resolution=resolution,
            engine=engine,
            device=device,
            color_depth=color_depth,
            cryptomatte=cryptomatte,
        )
        if scene.render.engine != "CYCLES":
            log(f"warning: engine {scene.render.engine} has no Object Index pass; use Cycles")
        cams = scene_cameras(scene, cameras)
        if not cams:
            raise ValueError("scene has no camera")
        for cam in cams:
            scene.camera = cam
            exr = None
            if render:
                exr = render_camera(scene, cam, out_dir)
            side = camera_sidecar(scene, cam, view_layer, indices)
            jpath = os.path.join(out_dir, cam.name + ".json")
            write_json(jpath, side)
            log(f"{cam.name}: {exr or '(not rendered)'} + {jpath}")
            results.append((exr, jpath))
    finally:
        if snap is not None:
            _restore(scene, snap)
    return results


# ---------------------------------------------------------------------------
# Add-on UI
# ---------------------------------------------------------------------------

if bpy is not None:
    from bpy.props import BoolProperty, IntProperty, StringProperty  # type: ignore

    class SCENEIMPORT_OT_export_cameras(bpy.types.Operator):
        """Assign pass indices by description and render every camera to EXR + JSON sidecar"""

        bl_idname = "scene_import.export_cameras"
        bl_label = "Scene Import: Export cameras"
        bl_options = {"REGISTER"}

        # Blender-style property annotations (linters misread the string args: noqa)
        cameras: StringProperty(name="Cameras", description="Comma-separated names; empty = all", default="")
        samples: IntProperty(name="Samples", description="Cycles samples; 0 = keep", default=0, min=0)
        force_cycles: BoolProperty(
            name="Use Cycles", default=True, description="Switch to Cycles (EEVEE has no Object Index pass)"
        )

        def execute(self, context):
            scene = context.scene
            out = scene.scene_import_outdir or "//scene_import"
            names = [c.strip() for c in self.cameras.split(",") if c.strip()] or None
            try:
                res = export_scene(
                    scene,
                    out,
                    cameras=names,
                    samples=self.samples,
                    view_layer_name=context.view_layer.name,
                    engine="CYCLES" if self.force_cycles else "KEEP",
                    restore=True,
                    log=lambda m: self.report({"INFO"}, m),
                )
            except Exception as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            self.report({"INFO"}, f"Scene Import: exported {len(res)} camera(s) to {bpy.path.abspath(out)}")
            return {"FINISHED"}

    class SCENEIMPORT_OT_assign_indices(bpy.types.Operator):
        """Set every object's pass index from its description"""

        bl_idname = "scene_import.assign_indices"
        bl_label = "Scene Import: Assign pass indices"
        bl_options = {"REGISTER", "UNDO"}

        def execute(self, context):
            idx = apply_pass_indices(context.scene)
            n = len({i for i, _ in idx.values() if i})
            self.report({"INFO"}, f"{n} description(s) -> pass indices 1..{n}")
            return {"FINISHED"}

    class SCENEIMPORT_PT_object(bpy.types.Panel):
        bl_label = "Scene Import"
        bl_space_type = "PROPERTIES"
        bl_region_type = "WINDOW"
        bl_context = "object"

        def draw(self, context):
            obj = context.object
            if obj is None:
                return
            col = self.layout.column()
            col.prop(obj, PROP_NAME, text="Description")
            if not getattr(obj, PROP_NAME, "") and obj.get(CUSTOM_PROP):
                col.label(text=f'Using custom property "{CUSTOM_PROP}"', icon="INFO")
            col.label(text=f"Pass index: {obj.pass_index}")
            col.operator(SCENEIMPORT_OT_assign_indices.bl_idname)

    class SCENEIMPORT_PT_output(bpy.types.Panel):
        bl_label = "Scene Import"
        bl_space_type = "PROPERTIES"
        bl_region_type = "WINDOW"
        bl_context = "output"

        def draw(self, context):
            col = self.layout.column()
            col.prop(context.scene, "scene_import_outdir", text="Folder")
            col.operator(SCENEIMPORT_OT_assign_indices.bl_idname)
            col.operator(SCENEIMPORT_OT_export_cameras.bl_idname)

    _CLASSES = (
        SCENEIMPORT_OT_export_cameras,
        SCENEIMPORT_OT_assign_indices,
        SCENEIMPORT_PT_object,
        SCENEIMPORT_PT_output,
    )


def register():
    if bpy.types.Object.bl_rna.properties.get(PROP_NAME) is None:
        setattr(
            bpy.types.Object,
            PROP_NAME,
            bpy.props.StringProperty(
                name="Description",
                description="What this object is, for Scene Import (objects with the same "
                "description share one pass index)",
                default="",
            ),
        )
    if bpy.types.Scene.bl_rna.properties.get("scene_import_outdir") is None:
        bpy.types.Scene.scene_import_outdir = bpy.props.StringProperty(
            name="Scene Import folder", subtype="DIR_PATH", default="//scene_import"
        )
    for cls in _CLASSES:
        try:
            bpy.utils.register_class(cls)
        except ValueError:  # already registered
            pass


def unregister():
    for cls in reversed(_CLASSES):
        try:
            bpy.utils.unregister_class(cls)
        except RuntimeError:
            pass
    for owner, name in ((bpy.types.Object, PROP_NAME), (bpy.types.Scene, "scene_import_outdir")):
        if hasattr(owner, name):
            try:
                delattr(owner, name)
            except AttributeError:
                pass


def main(argv=None):
    if bpy is None:
        sys.exit("bpy is not available: run with the bpy wheel's Python or inside Blender")
    args = parse_args(split_argv(sys.argv if argv is None else argv))
    if args.blend:
        bpy.ops.wm.open_mainfile(filepath=os.path.abspath(args.blend))
    register()
    scene = bpy.data.scenes[args.scene] if args.scene else bpy.context.scene
    names = [c.strip() for c in args.cameras.split(",") if c.strip()] or None
    res = parse_resolution(args.resolution) if args.resolution else None
    export_scene(
        scene,
        args.out,
        cameras=names,
        samples=args.samples,
        resolution=res,
        view_layer_name=args.view_layer,
        engine=args.engine,
        device=args.device,
        render=not args.no_render,
        color_depth=args.color_depth,
        cryptomatte=args.cryptomatte,
    )
    if args.save_blend:
        bpy.ops.wm.save_as_mainfile(filepath=os.path.abspath(args.save_blend), copy=True)


if __name__ == "__main__":
    main()
