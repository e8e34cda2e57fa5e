r"""Summarise a py-spy speedscope profile: where the server's CPU samples go.

    .venv/bin/python bench/profile_summary.py \
        bench/results/profiles/roomchat-fanout100.speedscope.json

Prints the functions with the most samples on the top of the stack (self) and
the most samples anywhere in the stack (inclusive), as shares of all samples
(py-spy leaves out samples of an idle event loop unless told --idle).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def frame_key(f: dict[str, object]) -> str:
    name = str(f.get("name", "?"))
    file = str(f.get("file", ""))
    short = file
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in file:
            short = file.split(marker, 1)[1]
            break
    return f"{name} ({short})"


def summarize(path: Path, top: int = 20) -> str:
    data = json.loads(path.read_text())
    frames = [frame_key(f) for f in data["shared"]["frames"]]
    self_c: Counter[str] = Counter()
    incl_c: Counter[str] = Counter()
    pkg_c: Counter[str] = Counter()
    total = 0.0
    n_samples = 0
    for prof in data["profiles"]:
        for stack, w in zip(prof.get("samples", []), prof.get("weights", []), strict=False):
            if not stack:
                continue
            total += w
            n_samples += 1
            leaf = frames[stack[-1]]
            self_c[leaf] += w
            for k in {frames[i] for i in stack}:
                incl_c[k] += w
            pkg_c[package_of(data["shared"]["frames"][stack[-1]])] += w
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {n_samples} samples (on CPU, all threads)", "", "self (top of stack):"]
    for k, v in self_c.most_common(top):
        lines.append(f"  {100 * v / total:5.1f}%  {k}")
    lines += ["", "self, by package:"]
    for k, v in pkg_c.most_common(12):
        lines.append(f"  {100 * v / total:5.1f}%  {k}")
    lines += ["", "inclusive:"]
    for k, v in incl_c.most_common(top + 10):
        lines.append(f"  {100 * v / total:5.1f}%  {k}")
    return "\n".join(lines)


def package_of(f: dict[str, object]) -> str:
    file = str(f.get("file", ""))
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/src/roomchat/" in file:
        return "roomchat/" + file.split("/src/roomchat/", 1)[1].split("/", 1)[0]
    if "/lib/python3" in file:
        return "stdlib"
    return file or "?"


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(summarize(Path(p)))
        print()
