"""Scene Import's command-line flags (A1111 calls ``preload(parser)`` before parsing them)."""


def preload(parser):
    parser.add_argument(
        "--scene-import-allowed-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="Scene Import: a server folder whose scenes web clients may name (repeatable); "
        "paths are checked after resolving symlinks and '..'. Without it, only uploads are accepted.",
    )
    parser.add_argument(
        "--scene-import-max-upload-mb",
        type=int,
        default=512,
        metavar="MB",
        help="Scene Import: the largest total upload (EXR canvases) accepted per request, in MiB (default 512)",
    )
    parser.add_argument(
        "--scene-import-max-long-side",
        type=int,
        default=2048,
        metavar="PX",
        help="Scene Import: the largest generation long side (pixels) one request may ask for; bounds the "
        "work of /scene-import/v1/plan and the Script (default 2048)",
    )
