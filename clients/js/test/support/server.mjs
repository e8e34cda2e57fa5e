// A real `roomchat serve` for a test: a free port, a fresh SQLite file in a temporary
// directory, settings from the environment (as tests/support/server.py does it), ready
// once /readyz answers 200; stopped (and its directory removed) by the test.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repository = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** The interpreter with roomchat installed: the repository's venv, else ROOMCHAT_PYTHON. */
function python() {
  if (process.env.ROOMCHAT_PYTHON) return process.env.ROOMCHAT_PYTHON;
  const venv = join(repository, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

/** A port nothing listens on right now (the kernel's pick, released at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export class RoomchatServer {
  constructor(settings = {}) {
    this.settings = settings;
    this.process = null;
    this.directory = null;
    this.port = 0;
    this.output = [];
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  async start(timeoutMs = 30_000) {
    this.directory = await mkdtemp(join(tmpdir(), "roomchat-js-"));
    this.port = await freePort();
    const env = {
      ...process.env,
      ROOMCHAT_HOST: "127.0.0.1",
      ROOMCHAT_PORT: String(this.port),
      ROOMCHAT_DATABASE_URL: `sqlite+aiosqlite:///${join(this.directory, "roomchat.db")}`,
      ROOMCHAT_DATA_DIR: this.directory,
      ROOMCHAT_JWT_SECRET: "sdk-test-secret-that-is-long-enough-1234567890",
      ROOMCHAT_PUBLIC_BASE_URL: this.baseUrl,
      ROOMCHAT_LOG_LEVEL: "warning",
      // Every test client is 127.0.0.1: the per-address limits would see one attacker.
      ROOMCHAT_REGISTER_LIMIT_PER_ADDRESS: "100000/minute",
      ROOMCHAT_LOGIN_LIMIT_PER_ADDRESS: "100000/minute",
      ROOMCHAT_SEND_RATE_PER_SECOND: "1000",
      ROOMCHAT_SEND_BURST: "1000",
      ROOMCHAT_SERVE_WEB_CLIENT: "false",
      ...Object.fromEntries(Object.entries(this.settings).map(([key, value]) => [`ROOMCHAT_${key.toUpperCase()}`, String(value)])),
    };
    this.process = spawn(python(), ["-m", "roomchat", "serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    this.process.stdout.on("data", keep);
    this.process.stderr.on("data", keep);
    const exited = new Promise((resolve) => this.process.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const code = await Promise.race([exited, ready(this.baseUrl)]);
      if (code === true) return this;
      if (typeof code === "number" || code === null) {
        throw new Error(`roomchat serve exited (${code}) before it was ready:\n${this.logs()}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`roomchat serve not ready after ${timeoutMs} ms:\n${this.logs()}`);
      }
      // Polling a starting process: it sends no event to wait on.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  logs() {
    return this.output.join("").split("\n").slice(-60).join("\n");
  }

  async stop() {
    const child = this.process;
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    if (this.directory) await rm(this.directory, { recursive: true, force: true });
  }

  /** The SQLite file's path (for a test that looks at what was stored). */
  get databasePath() {
    return join(this.directory, "roomchat.db");
  }

  async readText(name) {
    return readFile(join(this.directory, name), "utf8");
  }
}

async function ready(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
