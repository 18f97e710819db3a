"""Train, watch and play Spaceship-v0: the project's front door (see ``python play.py --help``).

The work lives in :mod:`experiments`: ``cli`` parses, ``run`` trains, ``evaluate``,
``watch`` and ``keyboard`` play.
"""

import signal
import sys


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends the program as Ctrl-C does: a training saves what it has


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)  # first of all, so that no moment is left uncovered
    try:
        from experiments.cli import run

        sys.exit(run())
    except KeyboardInterrupt:  # while importing, before run() took over
        print("play.py: interrupted", file=sys.stderr)
        sys.exit(130)
