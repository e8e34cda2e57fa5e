"""Writes the benchmark report (Markdown + PNG plot) from bench/run.py's results."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SYSTEM_LABEL = {
    "roomchat": "roomchat",
    "ceiling": "ceiling (websockets)",
    "picows": "picows",
    "wsnode": "ws (Node.js)",
    "pgjoin": "websockets + asyncpg",
    "socketio": "python-socketio",
    "socketionode": "socket.io (Node.js)",
}
COLORS = {"roomchat": "tab:blue", "ceiling": "tab:green", "picows": "tab:olive",
          "wsnode": "tab:purple", "pgjoin": "tab:brown", "socketio": "tab:orange",
          "socketionode": "tab:red"}
SCEN_LABEL = {
    "fanout100": "Fan-out, rooms of 100",
    "fanout1000": "Fan-out, rooms of 1,000",
    "cross": "Cross-instance (2 instances)",
    "conns": "Idle joined connections",
    "join": "Join with 50 messages of history",
    "persist": "Persistence (PostgreSQL)",
}


def fmt_n(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def fmt_ms(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def metric_of(sc: str) -> str:
    return {"cross": "remote_deliveries_per_s", "persist": "acks_per_s",
            "join": "joins_per_s"}.get(sc, "deliveries_per_s")


BUSY = 0.3  # cores used by other work on the machine above which a figure is flagged


def busy(res: dict[str, Any]) -> bool:
    steps = [*res.get("steps", []), res.get("at70") or {}]
    return any(s.get("other_cpu", 0) > BUSY for s in steps) or (
        (res.get("hold") or {}).get("other_cpu", 0) > BUSY)


def flags(res: dict[str, Any]) -> str:
    out = ""
    sat = res.get("saturation") or {}
    if sat.get("loadgen_saturated"):
        out += " ‡"
    if busy(res):
        out += " §"
    acc = res.get("accounting") or {}
    if acc.get("lost") or acc.get("duplicated"):
        out += " ✗"
    return out


def cell(report: dict[str, Any], system: str, sc: str, what: str) -> str:
    key = f"{system}/{sc}"
    if key in report["not_run"]:
        return "n/a"
    res = report["results"].get(key)
    if res is None:
        return "not run"
    if "error" in res:
        return "error"
    if res.get("aborted"):
        return "aborted"
    if sc == "conns":
        rss = res["rss"]
        if what == "main":
            return f"{res['connect']['open']:,}" + flags(res)
        return f"{rss['per_conn_bytes'] / 1024:.1f} KiB"
    if what == "main":
        v = res["saturation"][metric_of(sc)]
        return fmt_n(v) + flags(res)
    lat = res["at70"]["latency_ms"]
    return (f"{fmt_ms(lat['p50'])} / {fmt_ms(lat['p99'])}"
            + (" ‡" if res["at70"].get("loadgen_saturated") else "")
            + (" §" if busy(res) else ""))


def summary_rows(report: dict[str, Any], systems: list[str]) -> list[tuple[str, list[str], str]]:
    rows = []
    rows.append(("Fan-out 100: deliveries/s at saturation",
                 [cell(report, s, "fanout100", "main") for s in systems],
                 "≥ 0.7 × ceiling, ≥ 3 × socketio"))
    rows.append(("Fan-out 100: p50 / p99 ms at 70%",
                 [cell(report, s, "fanout100", "lat") for s in systems], "< 2 / < 15"))
    rows.append(("Fan-out 1,000: deliveries/s at saturation",
                 [cell(report, s, "fanout1000", "main") for s in systems],
                 "≥ 0.7 × ceiling, ≥ 3 × socketio"))
    rows.append(("Fan-out 1,000: p50 / p99 ms at 70%",
                 [cell(report, s, "fanout1000", "lat") for s in systems], "< 2 / < 15"))
    rows.append(("Cross-instance: deliveries/s on the other instance at saturation",
                 [cell(report, s, "cross", "main") for s in systems], ""))
    rows.append(("Cross-instance: p50 / p99 ms (other instance) at 70%",
                 [cell(report, s, "cross", "lat") for s in systems], "p99 < 25"))
    rows.append(("Idle joined connections held",
                 [cell(report, s, "conns", "main") for s in systems], "50,000"))
    rows.append(("Server RSS per idle connection",
                 [cell(report, s, "conns", "rss") for s in systems], "< 16 KiB"))
    rows.append(("Join (50 history): joins/s at saturation",
                 [cell(report, s, "join", "main") for s in systems], ""))
    rows.append(("Join: p50 / p99 ms at 70%",
                 [cell(report, s, "join", "lat") for s in systems], ""))
    rows.append(("Persistence: messages stored/s at saturation",
                 [cell(report, s, "persist", "main") for s in systems], "≥ 10,000"))
    rows.append(("Persistence: p50 / p99 ms send-to-ack at 70%",
                 [cell(report, s, "persist", "lat") for s in systems], "p99 < 20"))
    lost = []
    for s in systems:
        ls = [r.get("accounting", {}) for k, r in report["results"].items()
              if k.startswith(s + "/")]
        if not ls:
            lost.append("-")
            continue
        lost.append(f"{sum(a.get('lost', 0) for a in ls)} / "
                    f"{sum(a.get('duplicated', 0) for a in ls)}")
    rows.append(("Lost / duplicated deliveries (all runs)", lost, "0 / 0"))
    return rows


def goals(report: dict[str, Any]) -> list[str]:
    res = report["results"]

    def sat(system: str, sc: str) -> float | None:
        r = res.get(f"{system}/{sc}")
        if not r or "saturation" not in r:
            return None
        return float(r["saturation"][metric_of(sc)])

    def at70(system: str, sc: str) -> dict[str, float] | None:
        r = res.get(f"{system}/{sc}")
        if not r or "at70" not in r:
            return None
        return r["at70"]["latency_ms"]  # type: ignore[no-any-return]

    def mark(ok: bool | None) -> str:
        return "—" if ok is None else ("met" if ok else "**not met**")

    out = []
    for sc in ("fanout100", "fanout1000"):
        rc, ce, so = sat("roomchat", sc), sat("ceiling", sc), sat("socketio", sc)
        if rc is not None and ce:
            lb = (" (the ceiling's figure is a lower bound ‡)"
                  if res[f"ceiling/{sc}"]["saturation"].get("loadgen_saturated") else "")
            out.append(f"| {SCEN_LABEL[sc]}: roomchat / ceiling ≥ 0.7 | {rc / ce:.2f}{lb} | "
                       f"{mark(rc / ce >= 0.7)} |")
        if rc is not None and so:
            out.append(f"| {SCEN_LABEL[sc]}: roomchat / python-socketio ≥ 3 | {rc / so:.2f} | "
                       f"{mark(rc / so >= 3)} |")
        lat = at70("roomchat", sc)
        if lat:
            out.append(f"| {SCEN_LABEL[sc]}: p50 < 2 ms, p99 < 15 ms at 70% | "
                       f"{fmt_ms(lat['p50'])} / {fmt_ms(lat['p99'])} ms | "
                       f"{mark(lat['p50'] < 2 and lat['p99'] < 15)} |")
    lat = at70("roomchat", "cross")
    if lat:
        out.append(f"| Cross-instance p99 < 25 ms | {fmt_ms(lat['p99'])} ms | "
                   f"{mark(lat['p99'] < 25)} |")
    r = res.get("roomchat/conns")
    if r and "rss" in r:
        n = r["connect"]["open"]
        kib = r["rss"]["per_conn_bytes"] / 1024
        out.append(f"| 50,000 idle joined connections | {n:,} | {mark(n >= 50000)} |")
        out.append(f"| < 16 KiB RSS per connection | {kib:.1f} KiB | {mark(kib < 16)} |")
    s = sat("roomchat", "persist")
    lat = at70("roomchat", "persist")
    if s is not None:
        out.append(f"| 10,000 messages/s stored on PostgreSQL | {fmt_n(s)} | {mark(s >= 10000)} |")
    if lat:
        out.append(f"| p99 send-to-ack < 20 ms at 70% | {fmt_ms(lat['p99'])} ms | "
                   f"{mark(lat['p99'] < 20)} |")
    return out


def ran(report: dict[str, Any], system: str, sc: str) -> dict[str, Any] | None:
    """The result of `system` on `sc` if it ran to the end, else None."""
    r = report["results"].get(f"{system}/{sc}")
    if not r or "error" in r or r.get("aborted"):
        return None
    return r if ("rss" if sc == "conns" else "saturation") in r else None


def ratio_rows(report: dict[str, Any], peers: list[str]) -> list[str]:
    """Per scenario, roomchat's figure divided by each peer's (the peers that ran it)."""
    out = []
    for sc, label in SCEN_LABEL.items():
        rc = ran(report, "roomchat", sc)
        if rc is None:
            continue
        cells = []
        for p in peers:
            r = ran(report, p, sc)
            if r is None:
                cells.append("-")
                continue
            if sc == "conns":  # memory per idle connection: below 1, roomchat uses less
                a, b = rc["rss"]["per_conn_bytes"], r["rss"]["per_conn_bytes"]
            else:
                a, b = rc["saturation"][metric_of(sc)], r["saturation"][metric_of(sc)]
            marks = flags(rc) + flags(r)
            cells.append((f"{a / b:.2f}" if b else "-")
                         + "".join(f" {m}" for m in "‡§✗" if m in marks))
        if any(c != "-" for c in cells):
            what = ("RSS per connection" if sc == "conns"
                    else metric_of(sc).replace("_per_s", "/s").replace("_", " "))
            out.append(f"| {label} ({what}) | " + " | ".join(cells) + " |")
    return out


def plot(report: dict[str, Any], path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scs = [sc for sc in ("fanout100", "fanout1000", "cross")
           if any(f"{s}/{sc}" in report["results"] for s in SYSTEM_LABEL)]
    if not scs:
        return False
    fig, axes = plt.subplots(2, len(scs), figsize=(6 * len(scs), 9), squeeze=False)
    for col, sc in enumerate(scs):
        ax, ax2 = axes[0][col], axes[1][col]
        for system, label in SYSTEM_LABEL.items():
            r = report["results"].get(f"{system}/{sc}")
            if not r or "steps" not in r:
                continue
            okey = "offered_remote_per_s" if sc == "cross" else "offered_deliveries_per_s"
            akey = metric_of(sc)
            steps = sorted((s for s in r["steps"] if s["latency_ms"].get("n")),
                           key=lambda s: s[okey])
            xs = [s[okey] for s in steps]
            c = COLORS[system]
            ax.plot(xs, [s["latency_ms"]["p50"] for s in steps], "-o", color=c, ms=4,
                    label=f"{label} p50")
            ax.plot(xs, [s["latency_ms"]["p99"] for s in steps], "--^", color=c, ms=4,
                    label=f"{label} p99")
            a70 = r["at70"]
            if a70["latency_ms"].get("n"):
                ax.plot([a70[okey]], [a70["latency_ms"]["p99"]], "*", color=c, ms=13)
            ax2.plot(xs, [s[akey] for s in steps], "-o", color=c, ms=4, label=label)
            sat = r["saturation"][akey]
            ax2.axhline(sat, color=c, lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{SCEN_LABEL[sc]}: latency vs offered load")
        where = " (to the other instance)" if sc == "cross" else ""
        ax.set_xlabel("offered deliveries/s" + where)
        ax.set_ylabel("send → receive latency, ms (★ = p99 at 70% of saturation)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        lim = [1e3, 1e6]
        ax2.plot(lim, lim, color="grey", lw=0.8, ls="-", label="achieved = offered")
        ax2.set_title(f"{SCEN_LABEL[sc]}: throughput")
        ax2.set_xlabel("offered deliveries/s")
        ax2.set_ylabel("achieved deliveries/s (dotted: saturation)")
        ax2.grid(True, which="both", alpha=0.3)
        ax2.legend(fontsize=7)
    fig.suptitle(f"roomchat benchmark {report['run_id']}"
                 + (" (quick)" if report["quick"] else ""), fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def step_table(r: dict[str, Any], sc: str) -> list[str]:
    okey = {"cross": "offered_remote_per_s", "persist": "offered_msgs_per_s",
            "join": "offered_joins_per_s"}.get(sc, "offered_deliveries_per_s")
    akey = metric_of(sc)
    lines = [
        "| step | offered/s | achieved/s | p50 ms | p99 ms | max ms | errors | loadgen CPU |"
        " server CPU | PG/Redis/broker CPU | other CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, s in enumerate([*r["steps"], r["at70"]]):
        name = "70%" if i == len(r["steps"]) else str(i + 1)
        lat = s["latency_ms"]
        lines.append(
            f"| {name} | {fmt_n(s[okey])} | {fmt_n(s[akey])} | {fmt_ms(lat['p50'])} | "
            f"{fmt_ms(lat['p99'])} | {fmt_ms(lat['max'])} | {s['errors']} | "
            f"{s['loadgen_cpu']:.2f}{' ‡' if s['loadgen_saturated'] else ''} | "
            f"{', '.join(f'{x:.2f}' for x in s['server_cpu'])} | "
            f"{s.get('services_cpu', float('nan')):.2f} | "
            f"{s.get('other_cpu', float('nan')):.2f} |"
        )
    return lines


def write(report: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    quick = report["quick"]
    md_path = out / "benchmarks.md"
    png_dir = out / "bench"
    png = png_dir / "fanout-latency.png"
    have_plot = plot(report, png)
    # the systems this run was asked for (results or a reason they did not run)
    asked = {k.split("/")[0] for k in [*report["results"], *report["not_run"]]}
    systems = [s for s in SYSTEM_LABEL if s in asked] or list(SYSTEM_LABEL)
    m = report["machine"]
    L: list[str] = []
    L.append("# roomchat benchmarks")
    L.append("")
    L.append(
        f"Latest run: `{report['run_id']}`" + (" (**quick** run: small and short, a smoke test,"
                                               " not figures to quote)" if quick else "")
        + f", {report['total_seconds']:.0f} s in all. Written by `bench/report.py`; do not edit"
        " by hand (notes go in `bench/notes.md`, which is copied in below)."
    )
    L.append("")
    L.append("Command (from the repository root, after `pip install -e '.[bench]'`):")
    L.append("")
    base = ".venv/bin/python bench/run.py" + (" --quick" if quick else "")
    L.append("```")
    if report["command"] == base:
        L.append(f"make {'bench-quick' if quick else 'bench'}    # = {base}")
    else:
        L.append(f"{report['command']}")
        L.append(f"# (make {'bench-quick' if quick else 'bench'} runs {base}, without the"
                 " options after it)")
    L.append("```")
    L.append("")
    L.append("## Machine")
    L.append("")
    pk = m.get("packages", {})
    L.append(f"- CPU: {m.get('cpu_model', '?')}, {m.get('cpus')} cores; memory {m.get('mem_gib')}"
             f" GiB; Linux {m.get('kernel')}; Python {m.get('python')}; Node.js "
             f"{m.get('node') or '-'}; PostgreSQL "
             f"{m.get('postgres', '?')}; git {m.get('git') or '(no commit)'}")
    L.append("- Pinning: " + (
        f"servers (and the Kafka-protocol broker) on core {report['pinning']['server']}, load "
        f"generator on core {report['pinning']['loadgen']} (`taskset`); PostgreSQL and Redis are"
        " the machine's services and run where the kernel puts them."
        if report.get("pinning") else "none (taskset missing or one core)"))
    L.append(f"- Open-file limit (hard, cannot be raised here): {m.get('nofile_hard')}")
    L.append("- Packages: " + ", ".join(f"{k} {v}" for k, v in pk.items() if v))
    L.append("")
    L.append("## Summary")
    L.append("")
    L.append("| figure | " + " | ".join(SYSTEM_LABEL[s] for s in systems) + " | goal (roomchat) |")
    L.append("|---" * (len(systems) + 2) + "|")
    for name, cells, goal in summary_rows(report, systems):
        L.append(f"| {name} | " + " | ".join(cells) + f" | {goal} |")
    L.append("")
    L.append("‡ the load generator used ≥ 90% of its core at saturation (or, on a latency "
             "cell, during the 70% run): the figure is a lower bound for the server (latency: "
             "partly the load generator's). § other work on the machine used more than "
             f"{BUSY} of a core during the scenario (*other CPU* in the details): the figure "
             "is skewed by it. ✗ lost or duplicated deliveries. n/a: the system cannot run "
             "the scenario (the ceiling and its picows and Node.js `ws` twins have no database and "
             "no second instance).")
    L.append("")
    peers = [s for s in systems if s != "roomchat"
             and any(ran(report, s, sc) for sc in SCEN_LABEL)]
    rows = ratio_rows(report, peers)
    if rows:
        L.append("## roomchat against each peer")
        L.append("")
        L.append("roomchat's figure divided by the peer's, per scenario, for the peers that ran it:"
                 " saturation throughput (above 1: roomchat is faster) and, for idle connections,"
                 " RSS per connection (below 1: roomchat uses less memory). The marks are those of"
                 " either figure (‡: the load generator was the limit, so the ratio is overstated"
                 " if the mark is the peer's and understated if it is roomchat's).")
        L.append("")
        L.append("| scenario | " + " | ".join(f"vs {SYSTEM_LABEL[p]}" for p in peers) + " |")
        L.append("|---" * (len(peers) + 1) + "|")
        L.extend(rows)
        L.append("")
    g = goals(report)
    if g:
        L.append("## roomchat against its goals")
        L.append("")
        L.append("| goal | measured | |")
        L.append("|---|---|---|")
        L.extend(g)
        L.append("")
    if have_plot:
        rel = "bench/fanout-latency.png"
        L.append("## Latency against offered load")
        L.append("")
        L.append(f"![latency against offered load]({rel})")
        L.append("")
        L.append("Top: p50 (solid) and p99 (dashed) send-to-receive latency at each offered-rate "
                 "step; ★ is the p99 of the run at 70% of saturation. Bottom: achieved against "
                 "offered deliveries/s; the dotted line is the saturation figure.")
        L.append("")
    if report["not_run"]:
        L.append("## Not run")
        L.append("")
        for k, why in report["not_run"].items():
            L.append(f"- {k}: {why}")
        L.append("")
    L.append("## Details")
    L.append("")
    for sc, label in SCEN_LABEL.items():
        keys = [f"{s}/{sc}" for s in systems if f"{s}/{sc}" in report["results"]]
        if not keys:
            continue
        L.append(f"### {label}")
        L.append("")
        spec = report["config"]["scenarios"][sc]
        L.append("Setup: " + ", ".join(f"{k}={v}" for k, v in spec.items() if k != "scenario"))
        L.append("")
        for key in keys:
            r = report["results"][key]
            system = key.split("/")[0]
            L.append(f"**{SYSTEM_LABEL[system]}**" + (f" ({r.get('wall_seconds')} s)"
                                                      if "wall_seconds" in r else ""))
            L.append("")
            if "error" in r:
                L.append("```")
                L.append(r["error"][-1500:])
                L.append("```")
                L.append("")
                continue
            if r.get("aborted"):
                L.append(f"Aborted: {r['aborted']}; connect: {r.get('connect')}")
                L.append("")
                continue
            acc = r.get("accounting", {})
            c = r.get("connect", {})
            L.append(
                f"- connections: {c.get('open')}/{c.get('connections')} open, connect failures "
                f"{c.get('failures')}; messages {acc.get('messages')}, deliveries expected "
                f"{acc.get('deliveries_expected')}, received {acc.get('deliveries_received')}, "
                f"**lost {acc.get('lost')}, duplicated {acc.get('duplicated')}**, out of order "
                f"{acc.get('out_of_order')}, errors {acc.get('errors') or 0}, connections lost "
                f"{acc.get('lost_connections')}")
            if r.get("receive_path"):
                L.append(f"- load generator receive path: {r['receive_path']}")
            if "stored_messages" in r:
                L.append(f"- rows stored in PostgreSQL during the scenario: {r['stored_messages']}")
            if sc == "conns":
                rss = r["rss"]
                h = r["hold"]
                L.append(
                    f"- server RSS {rss['before_bytes'] / 2**20:.1f} MiB before, "
                    f"{rss['half_bytes'] / 2**20:.1f} MiB at half, {rss['full_bytes'] / 2**20:.1f}"
                    f" MiB with all: {rss['per_conn_bytes'] / 1024:.1f} KiB per connection "
                    f"(marginal, second half: {rss['marginal_per_conn_bytes'] / 1024:.1f} KiB)")
                L.append(
                    f"- held {h['seconds']} s with a heartbeat every {h['heartbeat_interval_s']} s"
                    f" per connection: {h['pings_sent']} pings, {h['pongs']} pongs, "
                    f"{h['open_at_end']} open at the end; server CPU {h['server_cpu']}, loadgen "
                    f"CPU {h['loadgen_cpu']}")
                half = c.get("first_half", {})
                L.append(f"- connect + authenticate + join rate (first half): "
                         f"{half.get('per_second')} /s")
                L.append("")
                continue
            sat = r["saturation"]
            L.append(f"- saturation: {fmt_n(sat[metric_of(sc)])}/s ({sat['reason']}); loadgen "
                     f"CPU {sat['loadgen_cpu']:.2f}, server CPU {sat['server_cpu']}")
            L.append("")
            L.extend(step_table(r, sc))
            L.append("")
    profs = [(k, r["profile"]) for k, r in report["results"].items()
             if isinstance(r.get("profile"), dict) and r["profile"].get("summary")]
    if profs:
        L.append("## Profiles of this run (py-spy)")
        L.append("")
        L.append("`bench/run.py --profile` ran `py-spy record --nonblocking --rate 250` against"
                 " the roomchat server from the start of each scenario's measured load to its end;"
                 " the speedscope files are in `bench/results/profiles/` (open them in"
                 " speedscope.app), with a text summary beside each. Shares are of on-CPU samples"
                 " of the server process; `Runner.run` self time is the event loop's native code"
                 " (uvloop: socket system calls and callbacks' C parts).")
        L.append("")
        for k, pr in profs:
            L.append(f"<details><summary>{k}</summary>")
            L.append("")
            L.append("```")
            L.extend(pr["summary"].splitlines()[:40])
            L.append("```")
            L.append("")
            L.append("</details>")
            L.append("")
    L.append("## How it is measured")
    L.append("")
    L.append(METHOD)
    notes = BENCH / "notes.md"
    if notes.exists():
        L.append("")
        L.append(notes.read_text().strip())
    L.append("")
    L.append(f"_Generated {time.strftime('%Y-%m-%d %H:%M %Z')}._")
    md_path.write_text("\n".join(L) + "\n")
    return md_path


METHOD = """\
- **Load generator** (`bench/loadgen.py`): one process pinned to its own core, uvloop, a minimal
  WebSocket client of its own (asyncio.Protocol, all-zero mask key, no JSON decode of broadcasts:
  it finds the `~L<sender>:<msg#>:<CLOCK_MONOTONIC ns>~` marker that every message text carries).
  It opens its connections from 127.0.0.2-127.0.0.9 so source ports do not run out, authenticates
  (roomchat: a JWT per user from REST registration, `?token=`), joins (`join_room_chat`), sends
  (`send_room_chat_message`) and timestamps every delivery (`new_room_chat_message`). Latency is
  send → receive per delivery, CLOCK_MONOTONIC on both ends; the sender is one of the room's own
  connections, so its own echo counts as a delivery, as for every member.
- **Open loop, stepped**: each step offers a fixed message rate (spread over 5 senders a room)
  for a fixed time, then waits until every expected delivery has arrived (bounded). Steps grow
  by a fixed factor until the achieved rate falls below 90% of the offered rate, the backlog does
  not drain, the median latency passes 250 ms (queues are growing) or errors appear.
  *Saturation* is the highest achieved rate; the latency figures come from a separate run at
  70% of it.
- **Accounting**: every message has a number; at the end every connection that was in the room
  must have received every accepted message exactly once: *lost* and *duplicated* count the
  deliveries short of or beyond that. A run that loses or duplicates makes `bench/run.py` exit 1.
- **CPU**: each step reports, in cores, the load generator's own CPU use (user + system; ≥ 0.9
  of its core marks it saturated, ‡), the servers' CPU use, the CPU of PostgreSQL, Redis and the
  broker (part of the system under test), and *other*: everything else on the machine (work
  that is not part of the benchmark; above 0.3 of a core the figures are marked §).
- **Cross-instance**: two server processes (both on the server core), the connections of every
  room alternate between them; the figures are for deliveries on the instance the sender is
  not on. roomchat: PostgreSQL + the Kafka-protocol broker `tansu` (in-memory storage);
  python-socketio: `AsyncRedisManager` on the machine's Redis; socket.io (Node.js):
  `@socket.io/redis-adapter` (pub/sub) on the same Redis.
- **Connections**: half the connections are opened, authenticated and joined, RSS is read, then
  the rest; then all are held with an application heartbeat (`ping`; Engine.IO's own ping for
  Socket.IO plus a `ping` event) spread evenly over the interval. RSS per connection is
  (RSS with all − RSS before) / connections; *marginal* uses the second half only.
- **Join**: every room is seeded with 55 messages; a pool of joined-then-left connections takes
  open-loop `join_room_chat` requests (each followed by `leave_room_chat`); a reply with fewer
  than 50 messages is an error.
- **Persistence**: many rooms of 4 members, every member sending; the figure is acknowledged
  (stored) messages per second and send → ack latency; rows counted in PostgreSQL afterwards.
- **Peers** (`bench/peers/`): *ceiling*: the `websockets` library alone (uvloop, compression
  off), same JSON actions, no auth, no database, history in memory, one `websockets.broadcast`
  of one encoded frame per message. *python-socketio*: `AsyncServer` (ASGI) on uvicorn with
  uvloop + httptools, websocket transport only, orjson as its `json` module, rooms via
  `enter_room` and `emit(room=...)`, one asyncpg INSERT per message (SQLite with aiosqlite if
  PostgreSQL is absent), `AsyncRedisManager` across instances. *picows*: the ceiling's actions
  on picows (Cython WebSocket protocol, uvloop; callbacks, no coroutine per connection), one
  encoded frame written to each member's socket, no copy per member. *ws (Node.js)*: the
  ceiling's actions on Node.js with `ws` (compression off), one frame built per message
  (`WebSocket.Sender.frame`) and written to every member. *socket.io (Node.js)*: the
  python-socketio peer's events, acks and table on Node.js `socket.io` (websocket transport
  only, compression off), one `pg` INSERT per message from a pool of 10 (named, prepared
  statements; better-sqlite3 if PostgreSQL is absent), `@socket.io/redis-adapter` across
  instances. The Node.js peers run as one `node` process each, pinned like the others.
  *websockets + asyncpg* (`pgjoin`, the join scenario only): the ceiling with its history
  in PostgreSQL, one INSERT per message and one SELECT of the room's last 50 per join.
"""
