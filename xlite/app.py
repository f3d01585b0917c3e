"""tf.app: `run(main=None, argv=None)` parses the flags, calls main(argv) and exits with its result."""
from __future__ import annotations

import os
import sys

from xlite import flags

_HELP_ARGS = ("-h", "-help", "--help", "-helpshort", "--helpshort", "-helpfull", "--helpfull", "-?")


def usage() -> str:
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "program"
    main = sys.modules.get("__main__")
    doc = (getattr(main, "__doc__", None) or "").strip()
    text = f"usage: {program} [flags] [args]\n"
    if doc:
        text += "\n" + doc + "\n"
    if len(flags.FLAGS):
        text += "\nflags:\n" + flags.FLAGS.get_help() + "\n"
    return text


def _wants_help(argv) -> bool:
    for arg in argv[1:]:
        if arg == "--":
            return False
        name = arg.lstrip("-").split("=", 1)[0]
        if arg in _HELP_ARGS and name not in flags.FLAGS:
            return True
    return False


def run(main=None, argv=None):
    """TF1's tf.app.run: flags from `argv` (default sys.argv) are parsed, tolerating unknown ones,
    which stay in the argv that main receives; `sys.exit(main(argv))` follows."""
    argv = list(sys.argv if argv is None else argv)
    if _wants_help(argv):
        sys.stdout.write(usage())
        sys.exit(0)
    try:
        remaining = flags.FLAGS(argv, known_only=True)
    except flags.Error as e:
        sys.stderr.write(f"FATAL Flags parsing error: {e}\nPass --help to see help on flags.\n")
        sys.exit(1)
    if main is None:
        main = sys.modules["__main__"].main
    sys.exit(main(remaining))
