"""A process's peak resident memory, reset and read through /proc (Linux): what one request or call added."""

from __future__ import annotations

from pathlib import Path


def _status(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) // 1024
    raise LookupError(field)


class PeakMemory:
    """`with PeakMemory(pid) as peak:` ... then `peak.added`: MiB the peak rose above the memory held before."""

    def __init__(self, pid: int | str = "self") -> None:
        self.pid = pid
        self.before = self.peak = 0

    def __enter__(self) -> PeakMemory:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
        self.before = _status(self.pid, "VmRSS")
        return self

    def __exit__(self, *_: object) -> None:
        self.peak = _status(self.pid, "VmHWM")

    @property
    def added(self) -> int:
        return self.peak - self.before
