"""`python -m core.synthetic geo|localization|sync|curation ...`: write a generated data set to a folder."""

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

    cur = sub.add_parser("curation", help="VGG-Sound curation clips: partly wrong labels, speech / music "
                                          "overlays, duplicates (truth.csv beside labels.csv)")
    cur.add_argument("--clips", type=int, default=200)
    cur.add_argument("--classes", type=int, default=20, help="sound classes (at most 25)")
    cur.add_argument("--wrong-labels", type=float, default=0.3, help="share of clips labelled with another class")
    cur.add_argument("--overlays", type=float, default=0.1, help="share of clips with speech or music over them")
    cur.add_argument("--hard", type=float, default=0.1,
                     help="share of right-label clips mixed under a louder sound of another class")
    cur.add_argument("--duplicates", type=float, default=0.02, help="share of clips re-uploading another clip")
    cur.add_argument("--test-share", type=float, default=0.0, help="share of clips with split 'test'")
    cur.add_argument("--seconds", type=float, default=10.0, help="clip length")
    cur.add_argument("--overlay-set", action="store_true",
                     help="instead: clips labelled speech / music / other for the stage-3 classifier")
    cur.add_argument("--seed", type=int, default=0)
    cur.add_argument("--out", type=Path, required=True)
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
    elif args.command == "curation":
        from core.synthetic.curation import generate_curation, generate_overlay_set

        if args.overlay_set:
            out = generate_overlay_set(clips=args.clips, seed=args.seed, out=args.out, seconds=args.seconds)
        else:
            out = generate_curation(clips=args.clips, classes=args.classes, seed=args.seed, out=args.out,
                                    wrong_labels=args.wrong_labels, overlays=args.overlays, hard=args.hard,
                                    duplicates=args.duplicates, test_share=args.test_share, seconds=args.seconds)
    else:
        from core.synthetic.sync import generate_sync

        out = generate_sync(clips=args.clips, seed=args.seed, out=args.out,
                            min_duration=args.min_duration, max_duration=args.max_duration,
                            size=args.size)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
