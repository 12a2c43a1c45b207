"""Regional Prompter's palette against an independently computed table for regions 0-255."""

from fractions import Fraction

import numpy as np
import pytest

from lib_scene.palette import MAX_REGIONS, color_to_region, region_color, region_hue, region_palette


def independent_hues(n):
    """Enumerate cycles explicitly: 0; 1/2; 1/4, 3/4; 1/8, 3/8, 5/8, 7/8; ..."""
    hues = [Fraction(0)]
    c = 1
    while len(hues) < n:
        hues += [Fraction(k, 2**c) for k in range(1, 2**c, 2)]
        c += 1
    return hues[:n]


def hsv_to_rgb_exact(h, s, v):
    """Textbook HSV->RGB on exact fractions."""
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]


def test_first_ten_match_the_documented_table():
    assert [region_color(i) for i in range(10)] == [
        (128, 64, 64), (64, 128, 128), (96, 128, 64), (96, 64, 128), (128, 112, 64),
        (64, 128, 80), (64, 80, 128), (128, 64, 112), (128, 88, 64), (120, 128, 64),
    ]  # fmt: skip


def test_regions_0_to_255_match_independent_computation():
    half = Fraction(1, 2)
    want = [tuple(int(256 * x) for x in hsv_to_rgb_exact(h, half, half)) for h in independent_hues(256)]
    got = [tuple(int(v) for v in row) for row in region_palette(256)]
    assert got == want
    assert len(set(got)) == 256  # all distinct, none black


def test_color_to_region_inverts_the_palette():
    pal = region_palette(40)
    img = np.concatenate([pal, [[0, 0, 0], [1, 2, 3]]]).reshape(1, -1, 3).astype(np.uint8)
    assert color_to_region(img).tolist() == [list(range(40)) + [-1, -1]]


def test_hues_are_the_cycles_of_dyadic_fractions():
    # the colours alone cannot tell hue h from h + 1 (HSV wraps), the hues can
    assert [Fraction(region_hue(i)) for i in range(256)] == independent_hues(256)


def test_negative_region_and_out_of_range_counts_are_refused():
    with pytest.raises(ValueError, match="region number must be >= 0, got -1"):
        region_hue(-1)
    for n in (-1, MAX_REGIONS + 1):
        with pytest.raises(ValueError, match=rf"region count must be in \[0, {MAX_REGIONS}\], got {n}"):
            region_palette(n)
    assert region_palette(0).shape == (0, 3)
    assert region_palette(MAX_REGIONS).shape == (MAX_REGIONS, 3)


def test_color_to_region_over_the_whole_palette_and_outside_it():
    pal = region_palette(256)
    # every colour, plus colours that sort below and above every palette colour
    img = np.concatenate([pal, [[0, 0, 0], [255, 255, 255]]]).reshape(1, -1, 3).astype(np.uint8)
    assert color_to_region(img, 256).tolist() == [list(range(256)) + [-1, -1]]
    assert color_to_region(img, 0).tolist() == [[-1] * 258]  # an empty palette matches nothing
