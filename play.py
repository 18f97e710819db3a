"""Train, watch and play Spaceship-v0: the project's front door (see ``python play.py --help``).

The work lives in :mod:`experiments`: ``cli`` parses, ``run`` trains, ``evaluate``,
``watch`` and ``keyboard`` play.
"""

import os
import signal
import sys


def _exit_at_once(signum, frame):
    # While importing there is nothing to save, and an exception raised inside an extension
    # module's import can come out as an ImportError (numpy's "C-extensions failed").
    os.write(2, b"play.py: interrupted\n")
    os._exit(130)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the program as Ctrl-C does: a training saves what it has


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _exit_at_once)  # first of all, so that no moment is left uncovered
    signal.signal(signal.SIGINT, _exit_at_once)
    try:
        from experiments.cli import run

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.exit(run())
    except KeyboardInterrupt:  # after the imports, before run() took over
        print("play.py: interrupted", file=sys.stderr)
        sys.exit(130)
