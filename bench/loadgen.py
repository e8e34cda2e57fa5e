"""roomchat benchmark load generator.

One process, started by bench/run.py under ``taskset -c 1`` (the server runs on
core 0). It speaks three client dialects over its own minimal WebSocket client
(asyncio.Protocol + uvloop, zero mask key, no per-message JSON decode on the
broadcast path), so that it costs less per delivery than the servers it drives:

* ``json``  - roomchat's and the ceiling server's ``{"action", "payload", "request_id"}``
* ``sio``   - Socket.IO v5 over Engine.IO v4, websocket transport only

Usage: ``loadgen.py SPEC.json OUT.json``. The spec says which scenario to run
(fanout / cross / persist / join / conns), which connections to open and the
rate steps. Every loop is bounded in count and time. The result JSON has, per
step: offered and achieved rates, latency percentiles, errors, the loadgen's
own CPU use (and a ``loadgen_saturated`` flag), the server's CPU use, and at the
end the lost / duplicated delivery counts over the whole run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import resource
import struct
import sys
import time
from array import array
from typing import Any

import orjson

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    uvloop = None

NOW = time.monotonic_ns  # CLOCK_MONOTONIC: comparable across processes on one machine
MARK = b"~L"
BCAST_JSON = b'"new_room_chat_message"'
BCAST_SIO = b'42["new_room_chat_message"'
# Broadcasts a load generator sees beside messages and does not count: typing, and
# the room events its own joins cause (a first join makes a member: room_member_joined).
QUIET_BROADCASTS = frozenset(
    {
        "typing_indicator",
        "room_member_joined",
        "room_member_left",
        "room_chat_updated",
        "room_presence",
        "room_chat_read",
        "room_read_updated",
        "room_activity",
    }
)
FILLER = "the quick brown fox jumps over the lazy dog, benchmark chatter"


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def proc_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def machine_busy_seconds() -> float:
    """CPU time spent by all processes on the machine (user + nice + system + steal)."""
    try:
        with open("/proc/stat") as f:
            v = f.readline().split()
        return (int(v[1]) + int(v[2]) + int(v[3]) + int(v[8])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


SERVICES = (b"postgres", b"redis-server", b"tansu")


def services_cpu_seconds() -> float:
    """CPU time of the machine's PostgreSQL, Redis and the broker (they are part of the system
    under test, not noise)."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        i, j = raw.find(b"("), raw.rfind(b")")
        if raw[i + 1 : j] in SERVICES:
            parts = raw[j + 2 :].split()
            total += int(parts[11]) + int(parts[12])
    return total / os.sysconf("SC_CLK_TCK")


def proc_rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def percentiles(values: array, ps: tuple[float, ...] = (50, 90, 99, 99.9)) -> dict[str, float]:
    """Percentiles in milliseconds of a list of nanosecond latencies."""
    n = len(values)
    if not n:
        return {f"p{p:g}": float("nan") for p in ps} | {"max": float("nan"), "n": 0}
    s = sorted(values)
    out: dict[str, float] = {}
    for p in ps:
        idx = min(n - 1, max(0, round(p / 100.0 * n + 0.5) - 1))
        out[f"p{p:g}"] = s[idx] / 1e6
    out["max"] = s[-1] / 1e6
    out["mean"] = sum(s) / n / 1e6
    out["n"] = n
    return out


def ws_frame(payload: bytes) -> bytes:
    """A masked client text frame with an all-zero mask key (XOR is the identity)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, 0x80 | n, 0, 0, 0, 0)) + payload
    if n < 65536:
        return bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big") + b"\0\0\0\0" + payload
    return bytes((0x81, 0x80 | 127)) + n.to_bytes(8, "big") + b"\0\0\0\0" + payload


PONG_FRAME_HDR = bytes((0x8A,))


class FastRecv:
    """ctypes wrapper of bench/fastrecv.c, built with the system C compiler on first use."""

    LAT_CAP = 4_000_000

    def __init__(self, n_conns: int, n_senders: int, sio: bool, max_msgs: int = 4_000_000) -> None:
        import ctypes
        import hashlib
        import shutil
        import subprocess

        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastrecv.c")
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        build = os.path.join(os.path.dirname(src), "results", ".build")
        os.makedirs(build, exist_ok=True)
        so = os.path.join(build, f"fastrecv-{digest}.so")
        if not os.path.exists(so):
            cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
            if not cc:
                raise RuntimeError("no C compiler")
            tmp = f"{so}.{os.getpid()}"
            subprocess.run([cc, "-O2", "-shared", "-fPIC", "-pthread", "-o", tmp, src],
                           check=True, capture_output=True, timeout=120)
            os.replace(tmp, so)
        lib = ctypes.CDLL(so)
        i64, i32, vp = ctypes.c_int64, ctypes.c_int, ctypes.c_void_p
        lib.fr_init.argtypes = [i32, i32, i64, i64, i32, i32]
        lib.fr_set_conn.argtypes = [i32, i32, i32]
        lib.fr_add.argtypes = [i32, i32]
        lib.fr_pop.argtypes = [vp, i64]
        lib.fr_pop.restype = i64
        lib.fr_take.argtypes = [vp, vp, vp]
        lib.fr_counts.argtypes = [vp]
        lib.fr_received.restype = ctypes.POINTER(ctypes.c_int32)
        self.lib = lib
        self.ctypes = ctypes
        self.max_msgs = max_msgs
        self.notify_r, self.notify_w = os.pipe()
        os.set_blocking(self.notify_r, False)
        if lib.fr_init(n_conns, max(1, n_senders), max_msgs, self.LAT_CAP, int(sio),
                       self.notify_w) != 0:
            raise RuntimeError("fr_init failed")
        self.buf = ctypes.create_string_buffer(8 << 20)
        self.lat_l = (ctypes.c_int64 * self.LAT_CAP)()
        self.lat_r = (ctypes.c_int64 * self.LAT_CAP)()
        self.cnt = (ctypes.c_int64 * 10)()

    def add(self, fd: int, idx: int, instance: int, slot: int) -> None:
        self.lib.fr_set_conn(idx, instance, slot)
        if self.lib.fr_add(fd, idx) != 0:
            raise OSError("epoll_ctl failed")

    def start(self, spin: bool) -> None:
        self.lib.fr_start(int(spin))

    def stop(self) -> None:
        self.lib.fr_stop()

    def pop(self) -> list[tuple[int, int, bytes]]:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.notify_r, 65536):
                pass
        out = []
        while True:
            n = self.lib.fr_pop(self.buf, len(self.buf))
            if n <= 0:
                break
            raw = self.ctypes.string_at(self.buf, n)
            pos = 0
            while pos < n:
                idx, typ, ln = struct.unpack_from("<iii", raw, pos)
                out.append((idx, typ, raw[pos + 12 : pos + 12 + ln]))
                pos += 12 + ln
        return out

    def take(self) -> tuple[array, array]:
        self.lib.fr_take(self.lat_l, self.lat_r, self.cnt)
        nl, nr = self.cnt[0], self.cnt[1]
        loc = array("q")
        rem = array("q")
        loc.frombytes(self.ctypes.string_at(self.lat_l, nl * 8))
        rem.frombytes(self.ctypes.string_at(self.lat_r, nr * 8))
        return loc, rem

    def counts(self) -> list[int]:
        self.lib.fr_counts(self.cnt)
        return list(self.cnt)

    def received(self, n: int) -> array:
        out = array("i")
        out.frombytes(self.ctypes.string_at(self.lib.fr_received(), n * 4))
        return out


def phase(name: str) -> None:
    """Tell bench/run.py (reading our stdout) where we are, e.g. to start the profiler."""
    print(f"PHASE {name}", flush=True)


async def wait_until(pred: Any, timeout: float, poll: float = 0.005) -> bool:
    end = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() >= end:
            return False
        await asyncio.sleep(poll)


class Conn(asyncio.Protocol):
    """One client WebSocket connection."""

    __slots__ = (
        "closed",
        "frag",
        "idx",
        "instance",
        "last",
        "lg",
        "opened",
        "ready",
        "request",
        "rest",
        "room",
        "sio",
        "sio_auth",
        "transport",
    )

    def __init__(self, lg: LoadGen, idx: int, request: bytes, instance: int, room: int) -> None:
        self.lg = lg
        self.idx = idx
        self.request = request
        self.instance = instance
        self.room = room
        self.transport: asyncio.Transport | None = None
        self.rest = b""
        self.opened = False
        self.closed = False
        self.frag: bytes | None = None
        self.last: dict[int, int] = {}
        self.sio = lg.sio
        self.sio_auth = b"40"
        self.ready: asyncio.Future[bool] = lg.loop.create_future()

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed during handshake: {exc}"))
        self.lg.on_lost(self)

    def data_received(self, data: bytes) -> None:
        if self.rest:
            data = self.rest + data
            self.rest = b""
        if not self.opened:
            i = data.find(b"\r\n\r\n")
            if i < 0:
                self.rest = data
                return
            if not data.startswith(b"HTTP/1.1 101"):
                head = data[: min(i, 200)].decode("latin-1")
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"upgrade refused: {head!r}"))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.opened = True
            data = data[i + 4 :]
            if not self.sio and not self.ready.done():
                self.ready.set_result(True)
        n = len(data)
        pos = 0
        on_frame = self.lg.on_frame
        while n - pos >= 2:
            b0 = data[pos]
            ln = data[pos + 1] & 0x7F
            if ln < 126:
                hl = 2
            elif ln == 126:
                if n - pos < 4:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 4], "big")
                hl = 4
            else:
                if n - pos < 10:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 10], "big")
                hl = 10
            end = pos + hl + ln
            if end > n:
                break
            payload = data[pos + hl : end]
            pos = end
            op = b0 & 0x0F
            if b0 & 0x80:  # FIN
                if op == 1 or op == 2:
                    on_frame(self, payload)
                elif op == 0 and self.frag is not None:
                    full = self.frag + payload
                    self.frag = None
                    on_frame(self, full)
                elif op == 9:
                    self.send_raw(
                        PONG_FRAME_HDR + bytes((0x80 | len(payload), 0, 0, 0, 0)) + payload
                    )
                elif op == 8:
                    self.lg.server_closes += 1
                    self.transport.close()  # type: ignore[union-attr]
                    return
            elif op in (0, 1, 2):
                self.frag = (self.frag or b"") + payload
        if pos < n:
            self.rest = data[pos:]

    # -- sending ----------------------------------------------------------
    def send_raw(self, frame: bytes) -> None:
        if not self.closed:
            self.transport.write(frame)  # type: ignore[union-attr]

    def send(self, payload: bytes) -> None:
        if not self.closed:
            self.transport.write(ws_frame(payload))  # type: ignore[union-attr]


class LoadGen:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.loop = asyncio.get_running_loop()
        self.sio = spec["dialect"] == "sio"
        self.conns: list[Conn] = []
        self.server_pids: list[int] = spec.get("server_pids", [])
        # request bookkeeping: id -> (kind, t_send_ns, k_or_room, conn)
        self.next_req = 1
        self.pending: dict[int, tuple[str, int, int, Conn]] = {}
        # per-message bookkeeping (index k = global message number)
        self.expected = array("i")
        self.received = array("i")  # Python receive path only (FastRecv keeps its own)
        self.fast: FastRecv | None = None
        self.delivered_total = 0
        self.delivered_remote_total = 0
        self.expected_total = 0
        self.sender_of = array("i")
        # per-step counters
        self.reset_step()
        self.lost_conns = 0
        self.server_closes = 0
        self.errors: dict[str, int] = {}
        self.out_of_order = 0
        self.free: list[Conn] = []
        self.hist_expect = 0
        self.pongs = 0

    def reset_step(self) -> None:
        self.lat_local = array("q")
        self.lat_remote = array("q")
        self.lat_ack = array("q")
        self.lat_join = array("q")
        self.acks = 0
        self.joins = 0
        self.step_errors = 0
        self.unsent = 0
        if getattr(self, "fast", None) is not None:
            self.fast.take()  # drop what came before this step

    def err(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1
        self.step_errors += 1

    # -- connections ----------------------------------------------------------
    def upgrade_request(self, host: str, port: int, path: str) -> bytes:
        return (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\nUser-Agent: roomchat-bench\r\n\r\n"
        ).encode()

    async def open_conn(self, idx: int, instance: int, room: int, token: str, user: int) -> Conn:
        tgt = self.spec["targets"][instance]
        path = tgt["path"].replace("{token}", token)
        req = self.upgrade_request(tgt["host"], tgt["port"], path)
        srcs = self.spec["source_addrs"]
        src = srcs[idx % len(srcs)]
        conn = Conn(self, idx, req, instance, room)
        conn.sio_auth = b"40" + orjson.dumps({"user_id": user})
        await self.loop.create_connection(
            lambda: conn, tgt["host"], tgt["port"], local_addr=(src, 0)
        )
        await asyncio.wait_for(conn.ready, 30)
        return conn

    def on_lost(self, conn: Conn) -> None:
        if not getattr(self, "closing", False):
            self.lost_conns += 1

    def hand_over(self, senders: list[Conn]) -> str:
        """Give the sockets' receive side to the C thread (bench/fastrecv.c), if it builds."""
        try:
            fast = FastRecv(len(self.conns), len(senders), self.sio)
        except Exception as e:
            return f"Python (fastrecv unavailable: {e!r:.200})"
        slot = {c.idx: i for i, c in enumerate(senders)}
        for c in self.conns:
            if c.rest or c.frag:
                return "Python (unread bytes at hand-over)"
        for c in self.conns:
            c.transport.pause_reading()  # type: ignore[union-attr]
            fast.add(c.transport.get_extra_info("socket").fileno(), c.idx, c.instance,  # type: ignore[union-attr]
                     slot.get(c.idx, -1))
        self.loop.add_reader(fast.notify_r, self.pump_fast)
        fast.start(bool(self.spec.get("spin", False)))
        self.fast = fast
        return "C (bench/fastrecv.c)"

    def pump_fast(self) -> None:
        fast = self.fast
        assert fast is not None
        for idx, typ, payload in fast.pop():
            conn = self.conns[idx]
            if typ == 1:
                self.on_frame(conn, payload)
            elif typ == 9:
                conn.send_raw(PONG_FRAME_HDR + bytes((0x80 | len(payload), 0, 0, 0, 0)) + payload)
            elif typ == 8:
                self.server_closes += 1
                conn.transport.close()  # type: ignore[union-attr]
            elif typ == 0:
                conn.closed = True
                if not getattr(self, "closing", False):
                    self.lost_conns += 1

    # -- frames -------------------------------------------------------------
    def on_frame(self, conn: Conn, p: bytes) -> None:
        if (BCAST_SIO in p) if self.sio else (BCAST_JSON in p):
            i = p.find(MARK)
            if i < 0:
                self.err("broadcast_without_marker")
                return
            j = p.find(b"~", i + 2)
            s, k, t = p[i + 2 : j].split(b":")
            now = NOW()
            k = int(k)
            s = int(s)
            if k <= conn.last.get(s, -1):
                self.out_of_order += 1
            else:
                conn.last[s] = k
            self.received[k] += 1
            self.delivered_total += 1
            if self.conns[s].instance != conn.instance:
                self.delivered_remote_total += 1
                self.lat_remote.append(now - int(t))
            else:
                self.lat_local.append(now - int(t))
            return
        if self.sio:
            self.on_sio_frame(conn, p)
            return
        try:
            msg = orjson.loads(p)
        except orjson.JSONDecodeError:
            self.err("bad_json")
            return
        rid = msg.get("request_id")
        if rid is None:
            if msg.get("action") == "pong":
                self.pongs += 1
            elif msg.get("action") not in QUIET_BROADCASTS:
                self.err(f"unsolicited:{msg.get('action')}")
            return
        self.on_reply(int(rid), msg)

    def on_sio_frame(self, conn: Conn, p: bytes) -> None:
        if p[:2] == b"43":  # ack: 43<id>[data]
            i = p.find(b"[")
            rid = int(p[2:i])
            data = orjson.loads(p[i:])
            self.on_reply(rid, data[0] if data else {})
        elif p == b"2":  # engine.io ping -> pong
            conn.send(b"3")
        elif p[:1] == b"0":  # engine.io open -> socket.io connect
            conn.send(conn.sio_auth)
        elif p[:2] == b"40":
            if not conn.ready.done():
                conn.ready.set_result(True)
        elif p[:2] == b"44":
            if not conn.ready.done():
                conn.ready.set_exception(ConnectionError(p.decode()))
            self.err("sio_connect_error")
        elif p[:2] != b"42":
            self.err("sio_unexpected")

    def on_reply(self, rid: int, msg: dict[str, Any]) -> None:
        ent = self.pending.pop(rid, None)
        if ent is None:
            self.err("reply_unknown_request")
            return
        kind, t0, k, conn = ent
        now = NOW()
        ok = msg.get("status") == "success"
        if kind == "msg":
            if ok:
                self.acks += 1
                self.lat_ack.append(now - t0)
            else:
                self.err("send:" + str((msg.get("error") or {}).get("code")))
                # not stored -> no deliveries expected, unless some already came
                self.expected_total -= self.expected[k]
                self.expected[k] = 0
        elif kind == "join":
            if ok:
                data = msg.get("data") or {}
                if len(data.get("messages") or ()) < self.hist_expect:
                    self.err("join_short_history")
                self.joins += 1
                self.lat_join.append(now - t0)
            else:
                self.err("join:" + str((msg.get("error") or {}).get("code")))
            if kind == "join" and self.spec["scenario"] == "join":
                self.request(conn, "leave_room_chat", {"room_id": k}, "leave", k)
        elif kind == "leave":
            if not ok:
                self.err("leave:" + str((msg.get("error") or {}).get("code")))
            self.free.append(conn)
        elif kind == "joined":  # initial join of a connection
            if ok:
                self.joins += 1
                self.lat_join.append(now - t0)
            else:
                self.err("join:" + str((msg.get("error") or {}).get("code")))
            fut = self.join_waiters.pop(conn.idx, None)
            if fut is not None and not fut.done():
                fut.set_result(ok)
        elif kind == "ping":
            if ok or msg.get("action") == "pong":
                self.pongs += 1
            else:
                self.err("ping")

    def request(self, conn: Conn, action: str, payload: dict[str, Any], kind: str, k: int) -> int:
        rid = self.next_req
        self.next_req += 1
        self.pending[rid] = (kind, NOW(), k, conn)
        if self.sio:
            conn.send(b"42" + str(rid).encode() + orjson.dumps([action, payload]))
        else:
            conn.send(orjson.dumps({"action": action, "payload": payload, "request_id": str(rid)}))
        return rid

    def send_message(self, conn: Conn, room_size: int) -> None:
        k = len(self.expected)
        self.expected.append(room_size)
        if self.fast is None:
            self.received.append(0)
        elif k >= self.fast.max_msgs:
            self.expected.pop()
            self.unsent += 1
            return
        self.sender_of.append(conn.idx)
        self.expected_total += room_size
        t = NOW()
        text = f"~L{conn.idx}:{k}:{t}~ {FILLER}"
        rid = self.next_req
        self.next_req += 1
        self.pending[rid] = ("msg", t, k, conn)
        payload = {"room_id": conn.room, "message_text": text, "client_msg_id": f"b{k}"}
        if self.sio:
            conn.send(b"42" + str(rid).encode() + orjson.dumps(["send_room_chat_message", payload]))
        else:
            conn.send(
                orjson.dumps(
                    {"action": "send_room_chat_message", "payload": payload, "request_id": str(rid)}
                )
            )

    # -- setup --------------------------------------------------------------
    async def connect_all(
        self, layout: list[tuple[int, int, str, int]], join: bool
    ) -> dict[str, Any]:
        """layout: (instance, room, token, user) per connection. Opens and joins."""
        self.join_waiters: dict[int, asyncio.Future[bool]] = {}
        sem = asyncio.Semaphore(self.spec.get("connect_concurrency", 200))
        t0 = NOW()
        failures: list[str] = []
        self.conns = [None] * len(layout)  # type: ignore[list-item]

        async def one(i: int, inst: int, room: int, token: str, user: int) -> None:
            async with sem:
                try:
                    conn = await self.open_conn(i, inst, room, token, user)
                except Exception as e:
                    failures.append(repr(e)[:200])
                    return
                self.conns[i] = conn
                if join:
                    fut = self.loop.create_future()
                    self.join_waiters[i] = fut
                    self.request(conn, "join_room_chat", {"room_id": room}, "joined", room)
                    try:
                        await asyncio.wait_for(fut, 30)
                    except TimeoutError:
                        failures.append("join timeout")

        await asyncio.gather(*(one(i, *x) for i, x in enumerate(layout)))
        dt = (NOW() - t0) / 1e9
        ok = sum(1 for c in self.conns if c is not None and not c.closed)
        return {
            "connections": len(layout),
            "open": ok,
            "seconds": round(dt, 3),
            "per_second": round(len(layout) / dt, 1) if dt else None,
            "failures": len(failures),
            "failure_examples": sorted(set(failures))[:5],
        }

    def layout(self) -> list[tuple[int, int, str, int]]:
        """Connection i -> (instance, room, token, user)."""
        sp = self.spec
        rooms = sp["rooms"]
        size = sp["room_size"]
        tokens = sp.get("tokens") or [""]
        users = sp.get("user_ids") or list(range(len(tokens)))
        n_inst = len(sp["targets"])
        out = []
        for r, room in enumerate(rooms):
            for m in range(size):
                i = r * size + m
                u = i % len(tokens)
                out.append((m % n_inst, room, tokens[u], users[u]))
        return out

    # -- measurement helpers -----------------------------------------------------
    def snap(self) -> tuple[int, float, list[float], float, int, float]:
        work = self.fast.counts()[8] if self.fast is not None else 0
        return (NOW(), cpu_seconds(), [proc_cpu_seconds(p) for p in self.server_pids],
                machine_busy_seconds(), work, services_cpu_seconds())

    def usage(self, a: tuple[int, float, list[float], float, int, float],
              b: tuple[int, float, list[float], float, int, float]) -> dict[str, Any]:
        wall = (b[0] - a[0]) / 1e9
        if not wall:
            return {"loadgen_cpu": 0.0, "loadgen_saturated": False, "server_cpu": [],
                    "services_cpu": 0.0, "other_cpu": 0.0}
        lg = (b[1] - a[1]) / wall
        srv = [(y - x) / wall for x, y in zip(a[2], b[2], strict=True)]
        services = (b[5] - a[5]) / wall
        other = (b[3] - a[3]) / wall - lg - sum(srv) - services
        extra = {}
        if self.fast is not None:
            # share of the wall time the C receive thread spent receiving (not waiting)
            extra["recv_thread_busy"] = round((b[4] - a[4]) / 1e9 / wall, 3)
            if self.spec.get("spin"):
                lg = max(lg - 1.0 + extra["recv_thread_busy"], 0.0)  # spinning is not work
        return {
            **extra,
            "loadgen_cpu": round(lg, 3),
            "loadgen_saturated": lg >= 0.9,
            "server_cpu": [round(x, 3) for x in srv],
            "services_cpu": round(services, 3),
            "other_cpu": round(max(0.0, other), 3),
        }

    def counts(self) -> tuple[int, int]:
        """(deliveries, deliveries to the other instance) so far."""
        if self.fast is not None:
            c = self.fast.counts()
            return c[0], c[1]
        return self.delivered_total, self.delivered_remote_total

    @property
    def outstanding(self) -> int:
        return self.expected_total - self.counts()[0]

    async def drain(self, timeout: float) -> bool:
        return await wait_until(
            lambda: self.outstanding <= 0 and not any(v[0] == "msg" for v in self.pending.values()),
            timeout,
            0.01,
        )

    async def paced(self, rate: float, seconds: float, fire: Any) -> dict[str, Any]:
        """Open loop: call fire() `rate` times per second for `seconds`."""
        t0 = NOW()
        end = t0 + int(seconds * 1e9)
        n = 0
        lags = array("q")
        tick = 1_000_000  # 1 ms
        nxt = t0
        while True:
            now = NOW()
            if now >= end:
                break
            lags.append(now - nxt)
            due = int((now - t0) * rate / 1e9) + 1
            while n < due:
                fire(n)
                n += 1
            nxt = now + tick
            await asyncio.sleep(0.001)
        lag = percentiles(lags, (50, 99))
        return {
            "sent": n,
            "sched_lag_p99_ms": round(lag["p99"], 3),
            "sched_lag_max_ms": round(lag["max"], 3),
        }

    # -- scenarios ------------------------------------------------------------------
    async def step_messages(
        self, rate: float, seconds: float, senders: list[Conn], room_size: int, drain_s: float
    ) -> dict[str, Any]:
        self.reset_step()
        ns = len(senders)

        def fire(n: int) -> None:
            c = senders[n % ns]
            if c.closed:
                self.unsent += 1
                return
            self.send_message(c, room_size)

        c0 = self.counts()
        a = self.snap()
        sched = await self.paced(rate, seconds, fire)
        b = self.snap()
        c1 = self.counts()
        d_window = c1[0] - c0[0]
        r_window = c1[1] - c0[1]
        a_window = self.acks
        drained = await self.drain(drain_s)
        if self.fast is not None:
            self.lat_local, self.lat_remote = self.fast.take()
        res = {
            "offered_msgs_per_s": round(rate, 1),
            "offered_deliveries_per_s": round(rate * room_size, 1),
            "deliveries_per_s": round(d_window / seconds, 1),
            "remote_deliveries_per_s": round(r_window / seconds, 1),
            "acks_per_s": round(a_window / seconds, 1),
            "drained": drained,
            "latency_ms": percentiles(self.lat_local + self.lat_remote),
            "local_latency_ms": percentiles(self.lat_local),
            "remote_latency_ms": percentiles(self.lat_remote),
            "ack_latency_ms": percentiles(self.lat_ack),
            "errors": self.step_errors,
            "unsent": self.unsent,
            **sched,
            **self.usage(a, b),
        }
        return res

    def accounting(self) -> dict[str, Any]:
        lost = dup = 0
        received = self.fast.received(len(self.expected)) if self.fast else self.received
        for e, g in zip(self.expected, received, strict=True):
            if g < e:
                lost += e - g
            elif g > e:
                dup += g - e
        return {
            "messages": len(self.expected),
            "deliveries_expected": int(sum(self.expected)),
            "deliveries_received": int(sum(received)),
            "lost": lost,
            "duplicated": dup,
            "out_of_order": self.out_of_order + (self.fast.counts()[2] if self.fast else 0),
            "receive_path": "C (bench/fastrecv.c)" if self.fast else "Python",
            "lost_connections": self.lost_conns,
            "server_closes": self.server_closes,
            "errors": dict(self.errors),
        }

    async def sweep(
        self, run_step: Any, metric: str, offered_key: str, start: float
    ) -> dict[str, Any]:
        """Step the offered rate up until saturation, then measure at 70% of it."""
        sp = self.spec
        steps = []
        rate = start
        best = 0.0
        sat_reason = "max steps reached"
        good = 0  # steps below saturation so far
        backoffs = 0
        for _ in range(sp["max_steps"] + 2):
            st = await run_step(rate, sp["step_seconds"])
            steps.append(st)
            best = max(best, st[metric])
            # the median, not p99: one latency spike (a GC pause, a checkpoint) is not saturation
            p50 = st["latency_ms"]["p50"] if "latency_ms" in st else float("nan")
            reason = None
            if st[metric] < 0.9 * st[offered_key]:
                reason = "achieved < 90% of offered"
            elif not st.get("drained", True):
                reason = "backlog did not drain"
            elif p50 == p50 and p50 > sp.get("sat_p50_ms", 250):
                reason = f"p50 > {sp.get('sat_p50_ms', 250)} ms"
            elif st["errors"]:
                reason = "errors"
            if reason is None:
                good += 1
                if good >= sp["max_steps"]:
                    break
                rate *= sp["step_factor"]
                continue
            if good == 0 and backoffs < 2 and st["errors"] == 0:
                # saturated on the first step: start again lower
                backoffs += 1
                await asyncio.sleep(sp.get("settle_seconds", 1.0))
                rate /= 4
                continue
            sat_reason = reason
            break
        sat_step = max(steps, key=lambda s: s[metric])
        await asyncio.sleep(sp.get("settle_seconds", 1.0))
        # 70% of the saturation throughput, expressed in the unit that `rate` drives
        ratio = sat_step[offered_key] / sat_step["_rate"] if sat_step["_rate"] else 1.0
        target = 0.7 * best / ratio
        at70 = await run_step(target, sp["at70_seconds"])
        return {
            "steps": steps,
            "saturation": {
                metric: best,
                "reason": sat_reason,
                "loadgen_saturated": sat_step["loadgen_saturated"],
                "loadgen_cpu": sat_step["loadgen_cpu"],
                "server_cpu": sat_step["server_cpu"],
            },
            "at70": at70,
        }

    async def scenario_messages(self) -> dict[str, Any]:
        """fanout / cross / persist: rooms of room_size members, some of them senders."""
        sp = self.spec
        res: dict[str, Any] = {}
        res["connect"] = await self.connect_all(self.layout(), join=True)
        if res["connect"]["open"] < len(self.conns) or res["connect"]["failures"]:
            res["aborted"] = "connections failed"
            res["accounting"] = self.accounting()
            return res
        size = sp["room_size"]
        spr = sp["senders_per_room"]
        senders = []
        for r in range(len(sp["rooms"])):
            for m in range(spr):
                senders.append(self.conns[r * size + (m * size) // spr])
        if sp.get("fast_recv", True):
            res["receive_path"] = self.hand_over(senders)
        if sp["scenario"] == "cross":
            # does a message reach the other instance at all?
            self.send_message(senders[0], size)
            if not await wait_until(lambda: self.counts()[1] > 0, 15):
                res["aborted"] = "no message reached the other instance within 15 s"
                await self.drain(5)
                res["accounting"] = self.accounting()
                return res
            await self.drain(10)
        # warm-up (not reported): a little traffic so caches, JITs and pools are hot
        warm = sp.get("warmup_seconds", 1.0)
        await self.step_messages(sp["start_rate"] / 2, warm, senders, size, 10)
        metric = "remote_deliveries_per_s" if sp["scenario"] == "cross" else "deliveries_per_s"
        if sp["scenario"] == "persist":
            metric = "acks_per_s"

        async def run_step(rate: float, seconds: float) -> dict[str, Any]:
            st = await self.step_messages(rate, seconds, senders, size, sp["drain_seconds"])
            st["_rate"] = rate
            if sp["scenario"] == "cross":
                # offered deliveries that must cross to the other instance
                n_inst = len(sp["targets"])
                st["offered_remote_per_s"] = round(rate * size * (n_inst - 1) / n_inst, 1)
                st["latency_ms"] = st["remote_latency_ms"]
            if sp["scenario"] == "persist":
                st["latency_ms"] = st["ack_latency_ms"]
            return st

        phase("load")
        offered_key = {
            "cross": "offered_remote_per_s",
            "persist": "offered_msgs_per_s",
        }.get(sp["scenario"], "offered_deliveries_per_s")
        res.update(await self.sweep(run_step, metric, offered_key, sp["start_rate"]))
        await self.drain(sp["drain_seconds"])
        res["accounting"] = self.accounting()
        return res

    async def scenario_join(self) -> dict[str, Any]:
        """join_room_chat with 50 messages of history, open loop over a pool of connections."""
        sp = self.spec
        res: dict[str, Any] = {}
        room = sp["rooms"][0]
        # one seeding connection fills the history rooms (each pool conn gets its own room
        # index round-robin) - done with connections joined to the rooms
        res["connect"] = await self.connect_all(self.layout(), join=True)
        if res["connect"]["failures"]:
            res["aborted"] = "connections failed"
            res["accounting"] = self.accounting()
            return res
        size = sp["room_size"]
        seeders = [self.conns[r * size] for r in range(len(sp["rooms"]))]
        for _ in range(sp["history"] + 5):
            for c in seeders:
                self.send_message(c, size)
            await asyncio.sleep(0)
        if not await self.drain(30):
            res["aborted"] = "seeding did not drain"
        self.hist_expect = sp["history"]
        # the pool: leave the room first so every op is a fresh join
        self.free = []
        for c in self.conns:
            self.request(c, "leave_room_chat", {"room_id": c.room}, "leave", c.room)
        await wait_until(lambda: len(self.free) >= len(self.conns), 30)
        del room

        async def run_step(rate: float, seconds: float) -> dict[str, Any]:
            self.reset_step()

            def fire(n: int) -> None:
                if not self.free:
                    self.unsent += 1
                    return
                c = self.free.pop()
                self.request(c, "join_room_chat", {"room_id": c.room}, "join", c.room)

            a = self.snap()
            sched = await self.paced(rate, seconds, fire)
            b = self.snap()
            joins = self.joins
            await wait_until(lambda: len(self.free) >= len(self.conns), sp["drain_seconds"])
            st = {
                "_rate": rate,
                "offered_joins_per_s": round(rate, 1),
                "joins_per_s": round(joins / seconds, 1),
                "latency_ms": percentiles(self.lat_join),
                "errors": self.step_errors,
                "unsent": self.unsent,
                "drained": len(self.free) == len(self.conns),
                **sched,
                **self.usage(a, b),
            }
            return st

        await run_step(sp["start_rate"] / 2, sp.get("warmup_seconds", 1.0))
        phase("load")
        res.update(
            await self.sweep(run_step, "joins_per_s", "offered_joins_per_s", sp["start_rate"])
        )
        res["accounting"] = self.accounting()
        return res

    async def scenario_conns(self) -> dict[str, Any]:
        """Many idle, joined connections with heartbeats; server RSS per connection."""
        sp = self.spec
        pid = self.server_pids[0]
        res: dict[str, Any] = {}
        rss0 = proc_rss_bytes(pid)
        layout = self.layout()[: sp["connections"]]
        half = len(layout) // 2
        c1 = await self.connect_all(layout[:half], join=True)
        conns_first = self.conns
        await asyncio.sleep(1.0)
        rss_half = proc_rss_bytes(pid)
        # second half: keep indices distinct from the first half
        self.join_waiters = {}
        sem = asyncio.Semaphore(sp.get("connect_concurrency", 200))
        fails: list[str] = []
        second: list[Conn] = []
        t0 = NOW()

        async def one(i: int, inst: int, room: int, token: str, user: int) -> None:
            async with sem:
                try:
                    conn = await self.open_conn(i, inst, room, token, user)
                except Exception as e:
                    fails.append(repr(e)[:200])
                    return
                second.append(conn)
                fut = self.loop.create_future()
                self.join_waiters[i] = fut
                self.request(conn, "join_room_chat", {"room_id": room}, "joined", room)
                try:
                    await asyncio.wait_for(fut, 30)
                except TimeoutError:
                    fails.append("join timeout")

        await asyncio.gather(*(one(half + j, *x) for j, x in enumerate(layout[half:])))
        dt = (NOW() - t0) / 1e9
        self.conns = [c for c in conns_first if c is not None] + second
        res["connect"] = {
            "connections": len(layout),
            "open": sum(1 for c in self.conns if not c.closed),
            "first_half": c1,
            "second_half_seconds": round(dt, 3),
            "failures": c1["failures"] + len(fails),
            "failure_examples": sorted(set(c1["failure_examples"] + fails))[:5],
        }
        joins = self.joins
        phase("load")
        # hold: every connection sends a heartbeat `ping` once per interval
        self.reset_step()
        interval = sp["heartbeat_seconds"]
        live = [c for c in self.conns if not c.closed]
        a = self.snap()

        def fire(n: int) -> None:
            c = live[n % len(live)]
            if sp["dialect"] == "sio":
                self.request(c, "ping", {}, "ping", 0)
            else:
                c.send(b'{"action":"ping","payload":{}}')

        pongs0 = self.pongs
        sched = await self.paced(len(live) / interval, sp["hold_seconds"], fire)
        await wait_until(lambda: self.pongs - pongs0 >= sched["sent"], 10)
        b = self.snap()
        rss_full = proc_rss_bytes(pid)
        n_open = sum(1 for c in self.conns if not c.closed)
        res["hold"] = {
            "seconds": sp["hold_seconds"],
            "heartbeat_interval_s": interval,
            "pings_sent": sched["sent"],
            "pongs": self.pongs - pongs0,
            "open_at_end": n_open,
            **self.usage(a, b),
        }
        res["joins_ok"] = joins
        res["rss"] = {
            "before_bytes": rss0,
            "half_bytes": rss_half,
            "full_bytes": rss_full,
            "per_conn_bytes": round((rss_full - rss0) / max(1, n_open), 1),
            "marginal_per_conn_bytes": round((rss_full - rss_half) / max(1, len(layout) - half), 1),
        }
        res["accounting"] = self.accounting()
        return res


    async def scenario_upload(self) -> dict[str, Any]:
        """Fan-out at a fixed rate alone, then beside 1 MiB image uploads (each gets a
        thumbnail): whether uploads stall the event loop's other work. Reports
        uploads/s and their latency, and fan-out p50/p99 both ways (issue 24 asks p99
        while uploading within 1.5x of without)."""
        import httpx
        from PIL import Image

        sp = self.spec
        res: dict[str, Any] = {}
        res["connect"] = await self.connect_all(self.layout(), join=True)
        if res["connect"]["open"] < len(self.conns) or res["connect"]["failures"]:
            res["aborted"] = "connections failed"
            res["accounting"] = self.accounting()
            return res
        size = sp["room_size"]
        spr = sp["senders_per_room"]
        senders = [
            self.conns[r * size + (m * size) // spr]
            for r in range(len(sp["rooms"]))
            for m in range(spr)
        ]
        if sp.get("fast_recv", True):
            res["receive_path"] = self.hand_over(senders)
        # An incompressible image of about upload_bytes (random pixels, JPEG q95).
        side = int((sp["upload_bytes"] / 2.2) ** 0.5)
        raw = io.BytesIO()
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
            raw, "JPEG", quality=95
        )
        image = raw.getvalue()
        tgt = sp["targets"][0]
        base = f"http://{tgt['host']}:{tgt['port']}"
        token, room = sp["tokens"][0], sp["rooms"][0]
        latencies = array("q")  # nanoseconds, as percentiles() takes them
        failed: dict[str, int] = {}

        async def uploads(http: httpx.AsyncClient, rate: float, seconds: float) -> int:
            gate = asyncio.Semaphore(sp.get("upload_concurrency", 4))
            tasks: list[asyncio.Task[None]] = []

            async def one() -> None:
                async with gate:
                    t0 = NOW()
                    try:
                        r = await http.post(
                            f"/api/v1/room-chats/{room}/attachments",
                            headers={"Authorization": f"Bearer {token}"},
                            files={"file": ("bench.jpg", image, "image/jpeg")},
                        )
                        if r.status_code == 201:
                            latencies.append(NOW() - t0)
                        else:
                            failed[str(r.status_code)] = failed.get(str(r.status_code), 0) + 1
                    except Exception as e:  # counted, the run goes on
                        failed[type(e).__name__] = failed.get(type(e).__name__, 0) + 1

            await self.paced(rate, seconds, lambda n: tasks.append(asyncio.create_task(one())))
            await asyncio.gather(*tasks)
            return len(tasks)

        warm = sp.get("warmup_seconds", 1.0)
        rate, secs, drain = sp["start_rate"], sp["measure_seconds"], sp["drain_seconds"]
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            await self.step_messages(rate / 2, warm, senders, size, 10)
            await uploads(http, 1, 1)  # warm: the thumbnail pool, the route
            del latencies[:]
            phase("load")
            res["without_uploads"] = await self.step_messages(rate, secs, senders, size, drain)
            t0 = NOW()
            fanout, n = await asyncio.gather(
                self.step_messages(rate, secs, senders, size, drain),
                uploads(http, sp["upload_rate"], secs),
            )
            took = (NOW() - t0) / 1e9
        res["with_uploads"] = fanout
        res["uploads"] = {
            "offered_per_s": sp["upload_rate"],
            "uploads": n,
            "uploads_per_s": round(len(latencies) / took, 2) if took else 0.0,
            "bytes": len(image),
            "latency_ms": percentiles(latencies),
            "failed": failed,
        }
        alone = res["without_uploads"]["latency_ms"]["p99"]
        beside = fanout["latency_ms"]["p99"]
        res["fanout_p99_ratio"] = round(beside / alone, 3) if alone else None
        res["accounting"] = self.accounting()
        return res


async def amain(spec: dict[str, Any]) -> dict[str, Any]:
    nofile = raise_nofile()
    lg = LoadGen(spec)
    t0 = time.monotonic()
    sc = spec["scenario"]
    if sc in ("fanout", "cross", "persist"):
        res = await lg.scenario_messages()
    elif sc == "join":
        res = await lg.scenario_join()
    elif sc == "conns":
        res = await lg.scenario_conns()
    elif sc == "upload":
        res = await lg.scenario_upload()
    else:
        raise SystemExit(f"unknown scenario {sc}")
    res["loadgen"] = {
        "pid": os.getpid(),
        "affinity": sorted(os.sched_getaffinity(0)),
        "nofile": nofile,
        "seconds": round(time.monotonic() - t0, 2),
        "cpu_seconds": round(cpu_seconds(), 2),
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    lg.closing = True
    if lg.fast is not None:
        c = lg.fast.counts()
        res.setdefault("accounting", {})["fastrecv"] = {
            "bad_frames": c[3], "closed": c[4], "latencies_dropped": c[5]}
        lg.fast.stop()
    for c in lg.conns:
        if c is not None and c.transport is not None:
            c.transport.close()
    await asyncio.sleep(0.2)
    return res


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: loadgen.py SPEC.json OUT.json")
    runner = uvloop.run if uvloop is not None else asyncio.run
    with open(sys.argv[1], "rb") as f:
        spec = orjson.loads(f.read())
    res = runner(amain(spec))
    with open(sys.argv[2], "wb") as f:
        f.write(orjson.dumps(res, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
