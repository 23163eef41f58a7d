"""`python -m core.synthetic geo|localization|sync ...`: write a generated data set to a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface of the generators."""
    parser = argparse.ArgumentParser(prog="python -m core.synthetic", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    geo = sub.add_parser("geo", help="aerial GeoTIFF tiles with noisy and true annotations")
    geo.add_argument("--kind", choices=["railway", "buildings"], required=True)
    geo.add_argument("--tiles", type=int, default=4)
    geo.add_argument("--size", type=int, default=512, help="tile side in pixels")
    geo.add_argument("--exact-share", type=float, default=0.2,
                     help="share of instances left exactly aligned")
    geo.add_argument("--seed", type=int, default=0)
    geo.add_argument("--out", type=Path, required=True)

    loc = sub.add_parser("localization", help="clips with one sounding object among silent ones")
    loc.add_argument("--clips", type=int, default=16)
    loc.add_argument("--duration", type=float, default=5.0, help="seconds per clip")
    loc.add_argument("--size", type=int, default=224, help="frame side in pixels")
    loc.add_argument("--label-noise", type=float, default=0.0,
                     help="share of clips whose label names a wrong class (curation demos)")
    loc.add_argument("--scene-context", type=float, default=0.0,
                     help="share of clips set in the sounding category's typical scene")
    loc.add_argument("--seed", type=int, default=0)
    loc.add_argument("--out", type=Path, required=True)

    sync = sub.add_parser("sync", help="25 fps clips with visible and audible events in sync")
    sync.add_argument("--clips", type=int, default=16)
    sync.add_argument("--min-duration", type=float, default=2.0)
    sync.add_argument("--max-duration", type=float, default=6.0)
    sync.add_argument("--size", type=int, default=112, help="frame side in pixels")
    sync.add_argument("--seed", type=int, default=0)
    sync.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one generator and print where it wrote."""
    args = build_parser().parse_args(argv)
    if args.command == "geo":
        from core.synthetic.geo import generate_geo

        out = generate_geo(kind=args.kind, tiles=args.tiles, size=args.size, seed=args.seed,
                           out=args.out, exact_share=args.exact_share)
    elif args.command == "localization":
        from core.synthetic.localization import generate_localization

        out = generate_localization(clips=args.clips, seed=args.seed, out=args.out,
                                    duration=args.duration, size=args.size,
                                    label_noise=args.label_noise, scene_context=args.scene_context)
    else:
        from core.synthetic.sync import generate_sync

        out = generate_sync(clips=args.clips, seed=args.seed, out=args.out,
                            min_duration=args.min_duration, max_duration=args.max_duration,
                            size=args.size)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
