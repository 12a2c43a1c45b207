"""Render a sphere on a floor with Blender Cycles: the world-space Normal pass plus a camera-space
normal AOV made by Blender itself (Geometry Normal -> Vector Transform World -> Camera -> AOV
"CameraNormal"), for three cameras. Writes <out>/<Cam>.exr and <Cam>.json (matrix_world).

    $SCENE_IMPORT_BPY_PYTHON tests/bpy_camera_normal_aov.py OUT_DIR

Used by tests/test_normals.py (marker ``blender``) to check the world -> camera transform
against Blender's own camera space.
"""

import json
import os
import sys

import bpy
from mathutils import Euler, Vector

CAMERAS = {  # name: (location, roll in degrees about the view axis)
    "Cam0": ((5.0, -4.0, 3.5), 0.0),
    "Cam1": ((-4.5, 3.0, 2.5), 0.0),
    "Cam2": ((1.0, 5.5, 4.0), 25.0),
}


def main(out: str) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.samples = 4
    sc.cycles.device = "CPU"
    sc.render.resolution_x, sc.render.resolution_y = 96, 72
    bpy.ops.mesh.primitive_uv_sphere_add(radius=1, location=(0, 0, 1), segments=64, ring_count=32)
    bpy.ops.object.shade_smooth()
    sphere = bpy.context.object
    bpy.ops.mesh.primitive_plane_add(size=8, location=(0, 0, 0))
    floor = bpy.context.object
    mat = bpy.data.materials.new("m")
    mat.use_nodes = True
    nt = mat.node_tree
    geo = nt.nodes.new("ShaderNodeNewGeometry")
    vt = nt.nodes.new("ShaderNodeVectorTransform")
    vt.vector_type, vt.convert_from, vt.convert_to = "NORMAL", "WORLD", "CAMERA"
    aov = nt.nodes.new("ShaderNodeOutputAOV")
    aov.aov_name = "CameraNormal"
    nt.links.new(geo.outputs["Normal"], vt.inputs[0])
    nt.links.new(vt.outputs[0], aov.inputs["Color"])
    for i, ob in enumerate((sphere, floor), start=1):
        ob.data.materials.append(mat)
        ob.pass_index = i  # 1 = sphere, 2 = floor
    vl = sc.view_layers[0]
    a = vl.aovs.add()
    a.name, a.type = "CameraNormal", "COLOR"
    vl.use_pass_normal = True
    vl.use_pass_z = True
    vl.use_pass_object_index = True
    ims = sc.render.image_settings
    if hasattr(ims, "media_type"):  # Blender 5: multilayer EXR is a media type
        ims.media_type = "MULTI_LAYER_IMAGE"
    ims.file_format = "OPEN_EXR_MULTILAYER"
    ims.color_depth = "32"
    os.makedirs(out, exist_ok=True)
    for name, (loc, roll) in CAMERAS.items():
        cam = bpy.data.objects.new(name, bpy.data.cameras.new(name))
        sc.collection.objects.link(cam)
        sc.camera = cam
        cam.location = loc
        look = Vector((0.0, 0.0, 1.0)) - Vector(loc)
        q = look.to_track_quat("-Z", "Y")
        q = q @ Euler((0.0, 0.0, roll * 3.141592653589793 / 180.0)).to_quaternion()
        cam.rotation_mode = "QUATERNION"
        cam.rotation_quaternion = q
        bpy.context.view_layer.update()
        sc.render.filepath = os.path.join(out, name + ".exr")
        bpy.ops.render.render(write_still=True)
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as fh:
            json.dump({"camera": name, "matrix_world": [list(r) for r in cam.matrix_world]}, fh)


if __name__ == "__main__":
    main(sys.argv[-1])
