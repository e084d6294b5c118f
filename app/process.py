"""Process helpers shared by the supervisor and the workers."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys

#: prctl option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send `sig` to this process when its parent dies, so no orphan keeps working."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
