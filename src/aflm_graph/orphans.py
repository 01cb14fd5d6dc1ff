"""Worker processes that die with their parent, so `kill -9` of a build leaves no process behind.

A forked parse worker or a PDF extraction process whose parent was killed with SIGKILL would live on
(re-parented to init), holding memory and CPU for good. On Linux each such process asks the kernel
for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), then checks that the parent it was started
by is still its parent: one that died before the request was made is not signalled.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send `signum` to this process when its parent dies; False where there is no prctl."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int) -> None:
    """Make this process die when `parent_pid` (the process that started it) dies.

    Call it first thing in a child. The signal is SIGKILL: a worker busy in native code (a regular
    expression, pypdf) could not run a handler. If the parent is already gone, exit at once.
    The kernel sends it when the *thread* that forked the child ends: start children from a thread
    that outlives them (the pool and subprocess calls here wait for their children).
    """
    _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request was made: no signal will come
        os._exit(1)
