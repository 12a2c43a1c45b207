import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SAMPLES = os.path.join(ROOT, "samples")

#: ControlNet model names as a host lists them (the plan tests pick from these).
MODELS = [
    "None",
    "t2iadapter_depth_sd14v1 [3e7c4d3e]",
    "control_v11f1p_sd15_depth [cfd03158]",
    "control_v11p_sd15_normalbae [316696f1]",
    "control_sd15_normal [fef5e48e]",
    "control_v11p_sd15_canny [d14c016b]",
]


@pytest.fixture
def blender5(tmp_path):
    from scenes import write_blender5

    return write_blender5(str(tmp_path / "Cam0.exr"))


@pytest.fixture
def blender4(tmp_path):
    from scenes import write_blender4

    return write_blender4(str(tmp_path / "Cam0.exr"))


@pytest.fixture
def daz(tmp_path):
    from scenes import write_daz

    return write_daz(str(tmp_path / "daz"))
