"""Regional Prompter's palette against an independently computed table for regions 0-255."""

from fractions import Fraction

import numpy as np

from lib_scene.palette import color_to_region, region_color, region_palette


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
