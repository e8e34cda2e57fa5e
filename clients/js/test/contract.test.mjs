// The SDK against the contract documents: the AsyncAPI document is valid (the official
// parser), the generated types and the vendored build are current, and every REST
// endpoint of the OpenAPI document has a method.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { Parser } from "@asyncapi/parser";

import { ENDPOINTS } from "../dist/index.js";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const contract = join(packageRoot, "..", "..", "src", "roomchat", "contract");
const run = promisify(execFile);

describe("the contract documents", { timeout: 60_000 }, () => {
  it("asyncapi.yaml is a valid AsyncAPI 3 document", async () => {
    const text = await readFile(join(contract, "asyncapi.yaml"), "utf8");
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics.filter((d) => d.severity === 0);
    assert.deepEqual(errors.map((d) => `${d.path.join(".")}: ${d.message}`), []);
    assert.ok(document, "parsed");
    assert.equal(document.version(), "3.0.0");
  });

  it("the generated types are what the documents give (npm run check:generated)", async () => {
    await run(process.execPath, [join(packageRoot, "scripts", "generate.mjs"), "--check"]);
  });

  it("the vendored web build is a fresh build (npm run check:vendor)", async () => {
    await run(process.execPath, [join(packageRoot, "scripts", "vendor.mjs"), "--check"]);
  });

  it("installs from npm pack's tarball, as docs/sdk-js.md says, with no runtime dependency", async () => {
    const scratch = await mkdtemp(join(tmpdir(), "roomchat-pack-"));
    try {
      // dist/ is built by `pretest`; --ignore-scripts: no rebuild under the other tests' feet.
      const packed = await run("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", scratch], { cwd: packageRoot });
      const tarball = join(scratch, packed.stdout.trim().split("\n").at(-1));
      await writeFile(join(scratch, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
      await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: scratch });
      const script = join(scratch, "check.mjs");
      await writeFile(script, 'import * as sdk from "@roomchat/client";\nconsole.log(Object.keys(sdk).sort().join(","));\n');
      const { stdout } = await run(process.execPath, [script], { cwd: scratch });
      for (const name of ["RoomchatClient", "RoomchatError", "RestApi", "webStorageOutbox"]) {
        assert.ok(stdout.split(",").map((s) => s.trim()).includes(name), `${name} is exported`);
      }
      const installed = JSON.parse(await readFile(join(scratch, "node_modules", "@roomchat", "client", "package.json"), "utf8"));
      assert.deepEqual(installed.dependencies ?? {}, {}, "no runtime dependencies");
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it("every REST endpoint of openapi.json has a method, and no method a missing one", async () => {
    const openapi = JSON.parse(await readFile(join(contract, "openapi.json"), "utf8"));
    const documented = new Set();
    for (const [path, operations] of Object.entries(openapi.paths)) {
      for (const method of Object.keys(operations)) {
        if (["get", "post", "put", "patch", "delete"].includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
      }
    }
    const covered = new Set(Object.values(ENDPOINTS).map(([method, path]) => `${method} ${path}`));
    assert.deepEqual([...documented].filter((e) => !covered.has(e)).sort(), [], "endpoints without a method");
    assert.deepEqual([...covered].filter((e) => !documented.has(e)).sort(), [], "methods without an endpoint");
  });
});
