/**
 * Import cycles in src/, type-only imports included, at two levels, and imports from src/ of
 * anything outside it (the repository's own Worker in worker/, scripts, tests):
 * `npx tsx scripts/check-cycles.ts` (in `npm test`). Reads each module's imports, re-exports and
 * `import("…")` types (comments and strings of other kinds aside), resolves relative specifiers
 * as the bundler does (`x` -> x.ts or x/index.ts), and prints every strongly connected group of
 * more than one module (or a module importing itself).
 *
 * Then the same over units, the layers the folders are meant to be: each folder directly under
 * src/ is one unit with everything inside it (src/storage holds d1/ and kv/), and each top-level
 * file is a unit of its own (src/config.ts is `config`). Layers point one way: a cycle of units
 * (http imports policy and policy imports http, even through different modules) fails too, and
 * is printed with the imports that make each edge.
 *
 * Exits 1 on a module cycle, a unit cycle, or the library reaching outside src/.
 * `--graph` prints the unit graph for humans (each unit, what it imports, and the modules that
 * do it with `--graph --why`), bottom layers first, and exits 0 whatever it finds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");

const args = new Set(process.argv.slice(2));
const GRAPH = args.has("--graph");
const WHY = args.has("--why");

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return modules(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ""));
  for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
    if (candidate.endsWith(".ts") && existsSync(candidate)) return candidate;
  }
  return undefined;
}

// Comments out first; then every specifier of import/export ... from "x", import "x", import("x").
const COMMENTS = /\/\*[\s\S]*?\*\/|(^|[^:"'`])\/\/[^\n]*/g;
const SPECIFIERS = /\b(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(COMMENTS, "$1");
  const found: string[] = [];
  for (const match of text.matchAll(SPECIFIERS)) {
    const target = resolveImport(file, (match[1] ?? match[2])!);
    if (target) found.push(target);
  }
  return found;
}

const files = modules(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

const outside = [...graph].flatMap(([file, targets]) =>
  targets.filter((target) => relative(SRC, target).startsWith("..")).map((target) => [file, target] as const),
);
for (const [file, target] of outside) {
  console.error(`check-cycles: ${relative(ROOT, file)} imports ${relative(ROOT, target)}, outside the library`);
}
if (outside.length > 0) process.exitCode = 1;

/** Tarjan's strongly connected components: each group of more than one node, or a node importing itself. */
function cyclesOf(nodes: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];

  function visit(node: string): void {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1 || (edges.get(node) ?? []).includes(node)) cycles.push(group.sort());
    }
  }

  for (const node of nodes) if (!index.has(node)) visit(node);
  return cycles;
}

// Units: src/<folder>/** is <folder>; src/<file>.ts is <file>.
function unitOf(file: string): string {
  const [first, ...rest] = relative(SRC, file).split(/[\\/]/);
  return rest.length > 0 ? first! : first!.replace(/\.ts$/, "");
}

const units = [...new Set(files.map(unitOf))].sort();
/** unit -> imported unit -> the module imports that make the edge ("from -> to", relative to src/). */
const unitEdges = new Map(units.map((unit) => [unit, new Map<string, string[]>()]));
for (const [file, targets] of graph) {
  for (const target of targets) {
    if (relative(SRC, target).startsWith("..")) continue;
    const [from, to] = [unitOf(file), unitOf(target)];
    if (from === to) continue;
    const why = unitEdges.get(from)!;
    const line = `${relative(SRC, file)} -> ${relative(SRC, target)}`;
    why.set(to, [...(why.get(to) ?? []), line]);
  }
}
const unitGraph = new Map(units.map((unit) => [unit, [...unitEdges.get(unit)!.keys()].sort()]));

if (GRAPH) {
  // Bottom first: a unit after everything it imports (units in a cycle share a depth and say so).
  const unitCycles = cyclesOf(units, unitGraph);
  const cycleOf = new Map(unitCycles.flatMap((group) => group.map((unit) => [unit, group] as const)));
  const depth = new Map<string, number>();
  // The unit graph with each cycle taken as one node is acyclic: a group's depth is 1 + the deepest below it.
  const depthOf = (unit: string): number => {
    if (depth.has(unit)) return depth.get(unit)!;
    const group = cycleOf.get(unit) ?? [unit];
    const below = group.flatMap((member) => unitGraph.get(member)!.filter((next) => !group.includes(next)));
    const d = below.length === 0 ? 0 : 1 + Math.max(...below.map(depthOf));
    for (const member of group) depth.set(member, d);
    return d;
  };
  const groupOf = (unit: string) => (cycleOf.get(unit) ?? [unit]).join(" ");
  const ordered = [...units].sort(
    (a, b) => depthOf(a) - depthOf(b) || groupOf(a).localeCompare(groupOf(b)) || a.localeCompare(b),
  );
  const width = Math.max(...units.map((unit) => unit.length));
  console.log(`src/ by unit, bottom layers first (${units.length} units, ${files.length} modules):`);
  for (const unit of ordered) {
    const imports = unitGraph.get(unit)!;
    const cycle = cycleOf.get(unit);
    const mark = cycle ? `   <- CYCLE with ${cycle.filter((member) => member !== unit).join(", ")}` : "";
    console.log(`  ${unit.padEnd(width)} -> ${imports.length > 0 ? imports.join(", ") : "(nothing)"}${mark}`);
    if (WHY) {
      for (const next of imports) for (const line of unitEdges.get(unit)!.get(next)!) console.log(`      ${line}`);
    }
  }
  process.exit(0);
}

const cycles = cyclesOf(files, graph);
const unitCycles = cyclesOf(units, unitGraph);

if (cycles.length === 0 && unitCycles.length === 0 && outside.length === 0) {
  console.log(
    `check-cycles: no import cycle in ${relative(ROOT, SRC)}/ (${files.length} modules), none between its ${units.length} units (folders and top-level files)`,
  );
} else {
  for (const group of cycles) {
    console.error(`check-cycles: a cycle of ${group.length} modules:`);
    for (const member of group) {
      const inGroup = (graph.get(member) ?? []).filter((target) => group.includes(target));
      console.error(`  ${relative(ROOT, member)} -> ${inGroup.map((target) => relative(ROOT, target)).join(", ")}`);
    }
  }
  for (const group of unitCycles) {
    console.error(
      `check-cycles: a cycle of ${group.length} units (folders or top-level files of src/): ${group.join(" <-> ")}`,
    );
    for (const member of group) {
      for (const next of unitGraph.get(member)!.filter((unit) => group.includes(unit))) {
        console.error(`  ${member} -> ${next}:`);
        for (const line of unitEdges.get(member)!.get(next)!) console.error(`    ${line}`);
      }
    }
  }
  process.exitCode = 1;
}
