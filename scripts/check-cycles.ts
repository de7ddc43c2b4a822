/**
 * Import cycles in src/, type-only imports included, and imports from src/ of anything outside
 * it (the repository's own Worker in worker/, scripts, tests): `npx tsx scripts/check-cycles.ts`
 * (in `npm test`). Reads each module's imports, re-exports and `import("…")` types (comments
 * and strings of other kinds aside), resolves relative specifiers as the bundler does (`x` -> x.ts or x/index.ts), and
 * prints every strongly connected group of more than one module (or a module importing
 * itself). Exits 1 if there is any, or if the library reaches outside src/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");

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

// Tarjan's strongly connected components.
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
  for (const next of graph.get(node) ?? []) {
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
    if (group.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(group);
  }
}

for (const file of files) if (!index.has(file)) visit(file);

if (cycles.length === 0 && outside.length === 0) {
  console.log(`check-cycles: no import cycle in ${relative(ROOT, SRC)}/ (${files.length} modules)`);
} else {
  for (const group of cycles) {
    console.error(`check-cycles: a cycle of ${group.length} modules:`);
    for (const member of group.sort()) {
      const inGroup = (graph.get(member) ?? []).filter((target) => group.includes(target));
      console.error(`  ${relative(ROOT, member)} -> ${inGroup.map((target) => relative(ROOT, target)).join(", ")}`);
    }
  }
  process.exitCode = 1;
}
