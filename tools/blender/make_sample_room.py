"""Build the Scene Import sample room with bpy and export it with the exporter.

    /work/venv-bpy/bin/python tools/blender/make_sample_room.py            # -> samples/room/
    /work/venv-bpy/bin/python tools/blender/make_sample_room.py --out DIR --samples 24 \
        --resolution 512x384 [--save-blend /tmp/room.blend]

Everything is deterministic (no randomness): a room (floor, back wall, side
wall; two sides open) with described objects, three cameras, Cycles CPU.

Layout (metres, Z up).  Floor x,y in [-3, 3]; back wall at y = 3; side wall at
x = -3; walls 2.6 m high.

* Table at (-0.3, 0.6), top 1.4 x 0.8 at 0.77 m; two identical chairs
  (Chair_A south, Chair_B north, one shared mesh, one description).
* Vase ("a tall blue ceramic vase") on the floor UNDER the table centre: Cam2 looks
  steeply down from +x, so the table top hides it completely; Cam0 and Cam1
  (eye level) see it between the table legs.
* Ball: smooth UV sphere r = 0.3 at (1.5, -1.4, 0.3), visible in every camera;
  Cam0 and Cam1 see it from nearly opposite directions (about 170 degrees).
* Cam1 stands in the back-left corner and looks out over the open sides of
  the room, so part of its frame is background (Cycles depth 1e10).

Cam0 is written with a float32 Combined; Cam1 and Cam2 with a half Combined
(--half-cameras; data passes stay float32) to keep samples/ near 5 MB.

Outputs in --out: Cam0/1/2 .exr + .json (exporter), descriptions.properties
(seed-workflow format, distances for Cam0) and descriptions.txt.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import bpy  # noqa: E402, I001  (bpy first: bmesh and mathutils exist only once bpy is imported)
import bmesh  # noqa: E402
import scene_import_exporter as sie  # noqa: E402
from mathutils import Matrix, Vector  # noqa: E402

PROPERTIES_CAMERA = "Cam0"

# ---------------------------------------------------------------------------
# geometry helpers (bmesh, deterministic)
# ---------------------------------------------------------------------------


def _new_faces(bm, before):
    return [f for f in bm.faces if f not in before]


def box(bm, center, size, mat=0):
    before = set(bm.faces)
    m = Matrix.Translation(Vector(center)) @ Matrix.Diagonal(Vector((*size, 1.0)))
    bmesh.ops.create_cube(bm, size=1.0, matrix=m)
    for f in _new_faces(bm, before):
        f.material_index = mat


def cone(bm, center, r_bottom, r_top, depth, mat=0, segments=32, smooth=True, caps=True):
    before = set(bm.faces)
    bmesh.ops.create_cone(
        bm,
        cap_ends=caps,
        cap_tris=False,
        segments=segments,
        radius1=r_bottom,
        radius2=r_top,
        depth=depth,
        matrix=Matrix.Translation(Vector(center)),
    )
    for f in _new_faces(bm, before):
        f.material_index = mat
        # caps stay flat, sides smooth
        f.smooth = smooth and abs(f.normal.z) < 0.99


def sphere(bm, center, radius, mat=0, u=48, v=24):
    before = set(bm.faces)
    bmesh.ops.create_uvsphere(
        bm, u_segments=u, v_segments=v, radius=radius, matrix=Matrix.Translation(Vector(center))
    )
    for f in _new_faces(bm, before):
        f.material_index = mat
        f.smooth = True


def make_mesh(name, build):
    me = bpy.data.meshes.new(name)
    bm = bmesh.new()
    build(bm)
    bm.normal_update()
    bm.to_mesh(me)
    bm.free()
    return me


_MAT_COUNTER = [0]


def material(name, color, roughness=0.6, metallic=0.0, emission=None):
    mat = bpy.data.materials.new(name)
    mat.diffuse_color = (*color, 1.0)
    nt = mat.node_tree
    bsdf = next(n for n in nt.nodes if n.type == "BSDF_PRINCIPLED")
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    if emission is not None:
        bsdf.inputs["Emission Color"].default_value = (*emission[0], 1.0)
        bsdf.inputs["Emission Strength"].default_value = emission[1]
    _MAT_COUNTER[0] += 1
    mat.pass_index = _MAT_COUNTER[0]  # distinct Material Index per material
    return mat


def add_object(name, mesh, location=(0, 0, 0), rotation_z=0.0, materials=(), description=""):
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    obj.rotation_euler = (0.0, 0.0, rotation_z)
    if not mesh.materials:
        for m in materials:
            mesh.materials.append(m)
    bpy.context.scene.collection.objects.link(obj)
    if description:
        setattr(obj, sie.PROP_NAME, description)
    return obj


def add_camera(name, location, target, lens, clip=(0.1, 100.0)):
    cam = bpy.data.cameras.new(name)
    cam.lens = lens
    cam.sensor_width = 36.0
    cam.sensor_fit = "AUTO"
    cam.clip_start, cam.clip_end = clip
    obj = bpy.data.objects.new(name, cam)
    obj.location = location
    direction = Vector(target) - Vector(location)
    obj.rotation_euler = direction.to_track_quat("-Z", "Y").to_euler()
    bpy.context.scene.collection.objects.link(obj)
    return obj


# ---------------------------------------------------------------------------
# the room
# ---------------------------------------------------------------------------


def build_room():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sie.register()
    scene = bpy.context.scene
    scene.name = "Room"

    oak = material("Oak parquet", (0.55, 0.38, 0.22), 0.45)
    plaster = material("Green plaster", (0.55, 0.68, 0.55), 0.9)
    wood = material("Table wood", (0.35, 0.2, 0.1), 0.5)
    chair_wood = material("Chair wood", (0.45, 0.3, 0.16), 0.55)
    red = material("Red rubber", (0.8, 0.05, 0.04), 0.35)
    shelf_wood = material("Shelf wood", (0.25, 0.15, 0.08), 0.6)
    books = material("Book covers", (0.12, 0.2, 0.45), 0.7)
    blue = material("Blue ceramic", (0.05, 0.15, 0.8), 0.2)
    terracotta = material("Terracotta", (0.6, 0.25, 0.12), 0.8)
    leaves = material("Leaves", (0.08, 0.35, 0.06), 0.7)
    metal = material("Black metal", (0.03, 0.03, 0.03), 0.3, metallic=1.0)
    shade = material("Lamp shade", (0.9, 0.85, 0.7), 0.8, emission=((1.0, 0.85, 0.6), 2.0))
    frame = material("Picture frame", (0.6, 0.45, 0.1), 0.4, metallic=0.6)
    canvas = material("Landscape canvas", (0.25, 0.5, 0.75), 0.8)

    # floor and walls
    add_object(
        "Floor",
        make_mesh("Floor", lambda bm: box(bm, (0, 0, -0.05), (6.0, 6.0, 0.1))),
        materials=[oak],
        description="a light oak parquet floor",
    )
    add_object(
        "Wall_Back",
        make_mesh("Wall_Back", lambda bm: box(bm, (0, 0, 0), (6.2, 0.1, 2.6))),
        location=(-0.05, 3.05, 1.3),
        materials=[plaster],
        description="a pale green plaster wall",
    )
    add_object(
        "Wall_Side",
        make_mesh("Wall_Side", lambda bm: box(bm, (0, 0, 0), (0.1, 6.1, 2.6))),
        location=(-3.05, 0.05, 1.3),
        materials=[plaster],
        description="a pale green plaster wall",
    )

    # table: top 1.4 x 0.8, 0.77 high
    def table(bm):
        box(bm, (0, 0, 0.745), (1.4, 0.8, 0.05))
        for sx in (-1, 1):
            for sy in (-1, 1):
                box(bm, (sx * 0.62, sy * 0.32, 0.36), (0.06, 0.06, 0.72))

    add_object(
        "Table",
        make_mesh("Table", table),
        location=(-0.3, 0.6, 0.0),
        materials=[wood],
        description="a wooden dining table",
    )

    # two identical chairs, one shared mesh
    def chair(bm):
        box(bm, (0, 0, 0.45), (0.45, 0.45, 0.04))
        for sx in (-1, 1):
            for sy in (-1, 1):
                box(bm, (sx * 0.19, sy * 0.19, 0.215), (0.04, 0.04, 0.43))
        box(bm, (0, -0.205, 0.72), (0.45, 0.04, 0.5))

    chair_mesh = make_mesh("Chair", chair)
    add_object(
        "Chair_A",
        chair_mesh,
        location=(-0.3, -0.15, 0.0),
        materials=[chair_wood],
        description="a simple wooden chair",
    )
    add_object(
        "Chair_B",
        chair_mesh,
        location=(-0.3, 1.35, 0.0),
        rotation_z=math.pi,
        description="a simple wooden chair",
    )

    # the red ball (normal-map tests)
    add_object(
        "Ball",
        make_mesh("Ball", lambda bm: sphere(bm, (0, 0, 0), 0.3)),
        location=(1.5, -1.4, 0.3),
        materials=[red],
        description="a red rubber ball",
    )

    # the hidden-in-Cam2 vase, under the table centre
    add_object(
        "Vase",
        make_mesh("Vase", lambda bm: cone(bm, (0, 0, 0.33), 0.25, 0.15, 0.66)),
        location=(-0.3, 0.6, 0.0),
        materials=[blue],
        description="a tall blue ceramic vase",
    )

    # tall bookshelf against the side wall, front facing +x
    def bookshelf(bm):
        w, d, h = 1.0, 0.38, 2.0  # along y, along x, height
        t = 0.03
        for sy in (-1, 1):
            box(bm, (0, sy * (w / 2 - t / 2), h / 2), (d, t, h))
        box(bm, (-d / 2 + 0.01, 0, h / 2), (0.02, w, h))  # back panel
        for z in (0.05, 0.5, 0.95, 1.4, h - t / 2):
            box(bm, (0, 0, z), (d, w - 2 * t, t))  # shelves
        for k, z in enumerate((0.065, 0.515, 0.965, 1.415)):  # rows of books
            n = 5 + k % 2
            for i in range(n):
                bh = 0.26 + 0.03 * ((i * 7 + k * 3) % 4)
                by = -w / 2 + 0.1 + i * 0.13
                box(bm, (0.0, by, z + bh / 2), (0.26, 0.1, bh), mat=1)

    add_object(
        "Bookshelf",
        make_mesh("Bookshelf", bookshelf),
        location=(-2.80, -1.0, 0.0),
        materials=[shelf_wood, books],
        description="a tall wooden bookshelf",
    )

    # potted plant
    def plant(bm):
        cone(bm, (0, 0, 0.2), 0.18, 0.24, 0.4, mat=0)
        sphere(bm, (0, 0, 0.8), 0.4, mat=1, u=32, v=16)

    add_object(
        "Plant",
        make_mesh("Plant", plant),
        location=(2.3, 2.4, 0.0),
        materials=[terracotta, leaves],
        description="a potted green plant",
    )

    # floor lamp
    def lamp(bm):
        cone(bm, (0, 0, 0.015), 0.2, 0.2, 0.03, mat=0)
        cone(bm, (0, 0, 0.78), 0.02, 0.02, 1.5, mat=0, segments=16)
        cone(bm, (0, 0, 1.6), 0.25, 0.15, 0.3, mat=1, caps=False)  # open shade

    add_object(
        "Floor_Lamp",
        make_mesh("Floor_Lamp", lamp),
        location=(-2.3, 2.3, 0.0),
        materials=[metal, shade],
        description="a black metal floor lamp",
    )

    # painting on the back wall
    def painting(bm):
        box(bm, (0, 0, 0), (1.2, 0.04, 0.8), mat=0)
        box(bm, (0, -0.025, 0), (1.05, 0.02, 0.65), mat=1)

    add_object(
        "Painting",
        make_mesh("Painting", painting),
        location=(0.6, 2.97, 1.6),
        materials=[frame, canvas],
        description="a framed landscape painting",
    )

    # lights
    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 2.5
    sun.angle = math.radians(3)
    sun_obj = bpy.data.objects.new("Sun", sun)
    sun_obj.rotation_euler = (math.radians(50), 0.0, math.radians(35))
    scene.collection.objects.link(sun_obj)

    area = bpy.data.lights.new("Ceiling", "AREA")
    area.energy = 150.0
    area.size = 2.5
    area_obj = bpy.data.objects.new("Ceiling", area)
    area_obj.location = (0.0, 0.5, 3.2)
    scene.collection.objects.link(area_obj)

    bulb = bpy.data.lights.new("Lamp_Bulb", "POINT")
    bulb.energy = 60.0
    bulb.color = (1.0, 0.85, 0.6)
    bulb.shadow_soft_size = 0.05
    bulb_obj = bpy.data.objects.new("Lamp_Bulb", bulb)
    bulb_obj.location = (-2.3, 2.3, 1.5)
    scene.collection.objects.link(bulb_obj)

    # world: dim blue-grey void (Cycles depth = 1e10 there)
    world = bpy.data.worlds.new("Void")
    bg = next(n for n in world.node_tree.nodes if n.type == "BACKGROUND")
    bg.inputs["Color"].default_value = (0.05, 0.06, 0.08, 1.0)
    bg.inputs["Strength"].default_value = 1.0
    scene.world = world

    # cameras
    add_camera("Cam0", (3.2, -3.7, 1.7), (-0.6, 0.8, 0.7), lens=28.0)  # front-right, eye level
    add_camera("Cam1", (-2.0, 2.1, 1.8), (1.3, -1.3, 0.0), lens=24.0)  # back-left corner, looks out
    add_camera("Cam2", (3.2, 0.6, 5.2), (-0.6, 0.4, 0.0), lens=24.0)  # high, looking down from +x
    scene.camera = bpy.data.objects["Cam0"]

    # render settings
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_denoising = False
    scene.cycles.seed = 0
    scene.cycles.max_bounces = 6
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.sample_clamp_indirect = 2.0  # no fireflies at low sample counts
    scene.cycles.caustics_reflective = False
    scene.cycles.caustics_refractive = False
    scene.render.film_transparent = False
    scene.view_settings.view_transform = "Standard"
    return scene


# ---------------------------------------------------------------------------
# descriptions.properties / descriptions.txt
# ---------------------------------------------------------------------------


def write_descriptions(scene, out_dir, camera_name=PROPERTIES_CAMERA):
    """One entry per pass index; name = the objects carrying it (comma list);
    distance = smallest object-origin-to-camera distance (scene units)."""
    indices = sie.apply_pass_indices(scene)
    cam_pos = bpy.data.objects[camera_name].matrix_world.translation
    groups = {}
    for name, (idx, desc) in indices.items():
        if idx:
            groups.setdefault(idx, {"description": desc, "names": []})["names"].append(name)
    props = [
        f"# Scene Import sample room: pass index -> description; distance = metres "
        f"from object origin to {camera_name}",
        f"camera = {camera_name}",
    ]
    txt = []
    for idx in sorted(groups):
        g = groups[idx]
        names = sorted(g["names"])
        dist = min((bpy.data.objects[n].matrix_world.translation - cam_pos).length for n in names)
        props += [
            f"objects.{idx}.index = {idx}",
            f"objects.{idx}.description = {g['description']}",
            f"objects.{idx}.name = {','.join(names)}",
            f"objects.{idx}.distance = {dist:.3f}",
        ]
        txt.append(f"{idx} = {g['description']}")
    with open(os.path.join(out_dir, "descriptions.properties"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(props) + "\n")
    with open(os.path.join(out_dir, "descriptions.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(txt) + "\n")


def main(argv=None):
    argv = sie.split_argv(sys.argv if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "samples", "room"))
    p.add_argument("--samples", type=int, default=24)
    p.add_argument("--resolution", default="512x384")
    p.add_argument("--cameras", default="")
    p.add_argument(
        "--half-cameras",
        default="Cam1,Cam2",
        help="cameras written with --color-depth 16 (half Combined) to keep samples/ small; "
        "the others are full float (default: Cam0 float32, Cam1+Cam2 half)",
    )
    p.add_argument("--save-blend", default="", help="also save the .blend here (keep it out of the repo)")
    p.add_argument(
        "--cryptomatte",
        type=int,
        default=0,
        metavar="LEVELS",
        help="also write the Cryptomatte object pass (0 = off; samples/room_crypto uses 6)",
    )
    p.add_argument("--no-render", action="store_true")
    args = p.parse_args(argv)

    scene = build_room()
    os.makedirs(args.out, exist_ok=True)
    names = [c.strip() for c in args.cameras.split(",") if c.strip()]
    names = names or [o.name for o in sie.scene_cameras(scene)]
    half = {c.strip() for c in args.half_cameras.split(",") if c.strip()}
    for depth, group in (
        ("32", [n for n in names if n not in half]),
        ("16", [n for n in names if n in half]),
    ):
        if group:
            sie.export_scene(
                scene,
                args.out,
                cameras=group,
                samples=args.samples,
                resolution=sie.parse_resolution(args.resolution),
                engine="CYCLES",
                device="CPU",
                render=not args.no_render,
                color_depth=depth,
                cryptomatte=args.cryptomatte,
            )
    write_descriptions(scene, args.out)
    if args.save_blend:
        bpy.ops.wm.save_as_mainfile(filepath=os.path.abspath(args.save_blend))


if __name__ == "__main__":
    main()
