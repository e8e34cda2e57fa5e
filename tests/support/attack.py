"""What an attack test measures on the server it attacks, from outside the process."""

from __future__ import annotations

from pathlib import Path


def rss_bytes(pid: int) -> int:
    """The process's resident set size, read from /proc as `ps` would."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
