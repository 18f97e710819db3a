"""Writing a file whole or not at all, even when SIGINT or SIGTERM arrive during the write."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import signal
import threading
from collections.abc import Iterator

#: ``.NAME.PID.partial``: a write in progress, or the leftover of a writer that was killed.
PARTIAL = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.partial")

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def signals_held(signums: tuple[signal.Signals, ...] = HELD_SIGNALS) -> Iterator[None]:
    """Defer SIGINT and SIGTERM until the block ends, then deliver them in the order they came.

    Python runs signal handlers in the main thread only, so this acts there and is a no-op
    in other threads. Two layers:

    - ``pthread_sigmask`` blocks the signals in this thread (POSIX), so that none lands in
      the middle of the write;
    - the Python handlers are swapped for one that only records them: the kernel hands a
      process signal to any thread that does not block it (torch, tqdm and TensorBoard
      start threads), and Python would then run the usual handler in the main thread anyway.

    On leaving, pending signals reach the recorder, the handlers come back, and each signal
    received is raised again: ``KeyboardInterrupt``, or SIGTERM's default action, follows
    right after the block instead of inside it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in signums:
        if signal.getsignal(signum) not in (signal.SIG_IGN, None):  # None: a handler set outside Python
            previous[signum] = signal.signal(signum, lambda signum, frame: received.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signums) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # runs the recorder for what was pending
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


def replace_atomically(file: pathlib.Path, content: bytes) -> None:
    """Write ``content`` to ``.NAME.PID.partial`` beside ``file``, then rename it over ``file``."""
    partial = file.with_name(f".{file.name}.{os.getpid()}.partial")
    try:
        with open(partial, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, file)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def remove_stale_partials(folder: pathlib.Path) -> None:
    """Delete the ``.NAME.PID.partial`` files in ``folder`` whose writer process is gone.

    POSIX only (on Windows, ``os.kill(pid, 0)`` would end the process). A PID reused by a
    live process keeps its file: a leftover may stay, a live write is never removed.
    """
    if os.name != "posix":
        return
    for path in folder.glob(".*.partial"):
        match = PARTIAL.fullmatch(path.name)
        if match and not _alive(int(match["pid"])):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True
