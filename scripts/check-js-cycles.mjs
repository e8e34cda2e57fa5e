#!/usr/bin/env node
// Fails (exit 1) when the web client's ES modules import each other in a cycle, and
// names each cycle. design.md: front-end modules own their state; no import cycles.
// Plain Node, no dependency: the client has no build step, so its imports are simple
// `import ... from "..."` / `export ... from "..."` / `import "..."` statements.
//
//   node scripts/check-js-cycles.mjs [web root]   (default: src/roomchat/web)

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.argv[2] ?? join(here, "..", "src", "roomchat", "web"));

// Static imports and re-exports, also spread over lines; `[^;]*?` keeps one statement.
const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?:[^;'"`]*?\s+from\s+)?["']([^"']+)["']/g;

function jsFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : jsFiles(path);
    return /\.m?js$/.test(entry.name) ? [path] : [];
  });
}

/** The file an import names: "/js/x.js" is served from the web root, "./x.js" is relative. */
function target(fromFile, specifier) {
  if (specifier.startsWith("/")) return join(root, specifier);
  if (specifier.startsWith(".")) return resolve(dirname(fromFile), specifier);
  return null; // a bare or URL import: not one of ours
}

function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const files = jsFiles(root);
const known = new Set(files);
const graph = new Map(files.map((file) => {
  const source = stripComments(readFileSync(file, "utf8"));
  const deps = [...source.matchAll(IMPORT)]
    .map((m) => target(file, m[1]))
    .filter((dep) => dep !== null && known.has(dep));
  return [file, [...new Set(deps)]];
}));

// Tarjan's strongly connected components: every cycle lies within one of more than one
// module (or one importing itself).
let index = 0;
const stack = [];
const info = new Map(); // file -> {index, low, onStack}
const components = [];

function connect(file) {
  const node = { index, low: index, onStack: true };
  index += 1;
  info.set(file, node);
  stack.push(file);
  for (const dep of graph.get(file)) {
    if (!info.has(dep)) {
      connect(dep);
      node.low = Math.min(node.low, info.get(dep).low);
    } else if (info.get(dep).onStack) {
      node.low = Math.min(node.low, info.get(dep).index);
    }
  }
  if (node.low !== node.index) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    info.get(member).onStack = false;
    component.push(member);
  } while (member !== file);
  if (component.length > 1 || graph.get(file).includes(file)) components.push(component);
}

for (const file of [...files].sort()) if (!info.has(file)) connect(file);

/** One concrete cycle through `start` inside its component (breadth first: a short one). */
function cycleThrough(start, members) {
  const inside = new Set(members);
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const file = queue.shift();
    for (const dep of graph.get(file)) {
      if (!inside.has(dep)) continue;
      if (dep === start) {
        const path = [start];
        for (let at = file; at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(dep)) {
        previous.set(dep, file);
        queue.push(dep);
      }
    }
  }
  return [start, start];
}

const name = (file) => relative(root, file);
if (components.length === 0) {
  console.log(`no import cycles among the ${files.length} modules under ${relative(process.cwd(), root) || "."}`);
  process.exit(0);
}
console.error(`import cycles in the web client (${relative(process.cwd(), root) || "."}):`);
for (const component of components) {
  const members = component.map(name).sort();
  const first = component.find((f) => name(f) === members[0]);
  console.error(`\n  ${members.length} modules import each other: ${members.join(", ")}`);
  console.error(`  e.g. ${cycleThrough(first, component).map(name).join(" -> ")}`);
}
console.error("\nMove the shared piece down into a module that imports nothing above it, or");
console.error("let app.js register a callback at start-up (design.md: no import cycles).");
process.exit(1);
