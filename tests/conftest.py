import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SAMPLES = os.path.join(ROOT, "samples")


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
