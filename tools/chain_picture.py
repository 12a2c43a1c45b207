"""The README's picture of a chained run: for each camera, in chain order, what was carried into it
(the warp), what it had to paint (the mask) and the result.

    python -m lib_scene.cli run samples/room --webui http://127.0.0.1:7860 --out /tmp/chain \\
        --params '{"chain": {"enabled": true}, "long_side": 256, "seed": 1}'
    python tools/chain_picture.py /tmp/chain Cam0 Cam2 Cam1 --out docs/chain.png

The first camera has no warp or mask (it is generated as usual): its cells say so.
"""

from __future__ import annotations

import argparse
import os

from PIL import Image, ImageDraw

ROWS = ("warp (carried)", "mask (painted)", "result")
LABEL = 16


def _cell(path: str, size: tuple[int, int]) -> Image.Image:
    if not os.path.isfile(path):
        cell = Image.new("RGB", size, (40, 40, 40))
        ImageDraw.Draw(cell).text(
            (8, size[1] // 2 - 6), "first camera: generated as usual", fill=(200, 200, 200)
        )
        return cell
    with Image.open(path) as img:
        return img.convert("RGB").resize(size, Image.BILINEAR)


def strip(run: str, cameras: list[str], width: int) -> Image.Image:
    with Image.open(os.path.join(run, cameras[0] + ".png")) as first:
        height = round(width * first.height / first.width)
    pad = 4
    sheet = Image.new(
        "RGB", (len(cameras) * (width + pad) + pad, len(ROWS) * (height + LABEL + pad) + pad), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for c, cam in enumerate(cameras):
        files = (f"{cam}.warp.png", f"{cam}.warp.mask.png", f"{cam}.png")
        for r, (name, what) in enumerate(zip(files, ROWS, strict=True)):
            x, y = pad + c * (width + pad), pad + r * (height + LABEL + pad)
            draw.text((x, y + 2), f"{c + 1}. {cam}: {what}", fill=(0, 0, 0))
            sheet.paste(_cell(os.path.join(run, name), (width, height)), (x, y + LABEL))
    return sheet


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="the --out folder of a chained `scene-import run`")
    ap.add_argument("cameras", nargs="+", help="the cameras in chain order")
    ap.add_argument("--out", default=os.path.join("docs", "chain.png"))
    ap.add_argument("--width", type=int, default=200, help="cell width (px)")
    ap.add_argument("--colors", type=int, default=128, help="palette size of the PNG (keeps it small)")
    args = ap.parse_args()
    sheet = strip(args.run, args.cameras, args.width)
    sheet.quantize(colors=args.colors).save(args.out, optimize=True)
    print(f"wrote {args.out} ({os.path.getsize(args.out) // 1024} KB)")


if __name__ == "__main__":
    main()
