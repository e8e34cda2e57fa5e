// The built ESM for the web client, served at /sdk/ (src/roomchat/web/sdk/, committed).
//
//   node scripts/vendor.mjs          copy dist/*.js there (run `npm run build` first)
//   node scripts/vendor.mjs --check  build afresh into a temporary directory and exit 1
//                                    if the vendored copy differs from it

import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, "..");
const repository = join(packageRoot, "..", "..");
export const VENDORED = join(repository, "src/roomchat/web/sdk");
const HEADER = "// @roomchat/client, built from clients/js (npm run vendor). Do not edit.\n";

/** The .js files of a build directory, by relative path, as they are vendored. */
async function modules(directory, header = HEADER) {
  const files = {};
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    files[relative(directory, path)] = header + (await readFile(path, "utf8"));
  }
  return files;
}

function build(outDir) {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", join(packageRoot, "tsconfig.json"), "--outDir", outDir], {
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error("tsc failed");
}

async function main() {
  if (process.argv.includes("--check")) {
    const scratch = await mkdtemp(join(tmpdir(), "roomchat-sdk-"));
    try {
      build(scratch);
      const fresh = await modules(scratch);
      const vendored = await modules(VENDORED, "").catch(() => ({}));
      const names = new Set([...Object.keys(fresh), ...Object.keys(vendored)]);
      const stale = [...names].filter((name) => fresh[name] !== vendored[name]);
      for (const name of stale) console.error(`src/roomchat/web/sdk/${name} differs from a fresh build: run npm run vendor`);
      if (stale.length) process.exit(1);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    return;
  }
  const built = await modules(join(packageRoot, "dist"));
  await rm(VENDORED, { recursive: true, force: true });
  for (const [name, text] of Object.entries(built)) {
    const target = join(VENDORED, name);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
  }
  console.log(`vendored ${Object.keys(built).length} modules into ${relative(repository, VENDORED)}`);
}

await main();
