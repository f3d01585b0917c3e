"""The `xlite` command: one argparse subcommand per tool (see shared/DESIGN.md, "Tools")."""
from __future__ import annotations

import argparse
import sys


def _bench(parser: argparse.ArgumentParser) -> None:
    from xlite import bench
    bench.add_arguments(parser)
    parser.set_defaults(run=bench.run_from_args)


SUBCOMMANDS = {
    "bench": ("the benchmark suite: compiled vs interpreted (and vs JAX when installed)", _bench),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="xlite")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, configure) in SUBCOMMANDS.items():
        configure(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
