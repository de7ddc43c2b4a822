/**
 * The settings table (src/settings.ts) is what the docs say: README's "Configuration" table
 * row for row (name, kind, default and meaning, exactly, in the table's order, nothing
 * missing and nothing else), docs/mounting.md's list of `settings`, and wrangler.toml's
 * [vars] (each a var of the table, at its default; no secret among them).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BINDINGS, readSetting, SETTINGS, SETTINGS_KEYS, type SettingKey } from "../../src/settings";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

/** The text of a Markdown section: from its heading to the next of the same level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no "${heading}" section`);
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

interface Row {
  name: string;
  kind: string;
  default: string;
  meaning: string;
}

/** The rows of the section's one table (its header and rule aside); nothing else may stand inside it. */
function tableRows(text: string): Row[] {
  const all = text.split("\n");
  const first = all.findIndex((line) => line.startsWith("|"));
  const end = all.findIndex((line, i) => i > first && !line.startsWith("|"));
  const lines = all.slice(first, end === -1 ? undefined : end);
  const after = all.slice(lines.length + first).filter((line) => line.startsWith("|"));
  expect(after, "table rows after a line that is not one: the table is broken off").toEqual([]);
  expect(lines[0], "the table's header").toBe("| name | kind | default | meaning |");
  expect(lines[1]).toMatch(/^\|(-+\|){4}$/);
  return lines.slice(2).map((line) => {
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/) // a cell's own | is written \|
      .map((cell) => cell.trim());
    expect(cells, line).toHaveLength(4);
    const [name, kind, value, meaning] = cells as [string, string, string, string];
    return { name, kind, default: value, meaning };
  });
}

const defaultCell = (value: string | undefined) =>
  value === undefined ? "none" : value === "" ? "empty" : `\`${value}\``;

/** README's rows as the table defines them. */
const expected: Row[] = [
  ...Object.values(SETTINGS).map((s) => ({
    name: `\`${s.env}\``,
    kind: s.kind,
    default: defaultCell(s.default),
    meaning: s.doc,
  })),
  ...Object.values(BINDINGS).map((b) => ({ name: `\`${b.env}\``, kind: b.kind, default: "", meaning: b.doc })),
];

/** Rows as README writes them, for pasting: an empty cell is "| |". */
const asMarkdown = (rows: Row[]) =>
  rows
    .map((r) => `|${[r.name, r.kind, r.default, r.meaning].map((cell) => (cell ? ` ${cell} ` : " ")).join("|")}|`)
    .join("\n");

describe("the settings table and its docs", () => {
  it("README's Configuration table is the settings table: every setting, exactly, and nothing else", () => {
    const rows = tableRows(section(read("README.md"), "## Configuration"));
    // Name, kind and default first, so a drift there is named before any wording.
    expect(
      rows.map(({ name, kind, default: value }) => ({ name, kind, default: value })),
      `README's table should read (src/settings.ts):\n${asMarkdown(expected)}`,
    ).toEqual(expected.map(({ name, kind, default: value }) => ({ name, kind, default: value })));
    expect(rows, `README's table should read (src/settings.ts):\n${asMarkdown(expected)}`).toEqual(expected);
  });

  it("each default is a value its own parser accepts", () => {
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const value = SETTINGS[key].default;
      if (value !== undefined) expect(() => readSetting(key, value as never, SETTINGS[key].env), key).not.toThrow();
    }
  });

  it("docs/mounting.md lists exactly the `settings` a host passes, in the table's order", () => {
    const text = read("docs/mounting.md");
    const list = /are\s+the\s+README's\s+Configuration\s+table\s+camelCased\s*\(([^)]*)\)/.exec(text)?.[1];
    expect(list, "docs/mounting.md's list of settings").toBeDefined();
    const names = [...list!.matchAll(/`(\w+)`/g)].map((match) => match[1]);
    expect(names).toEqual([...SETTINGS_KEYS]);
  });

  it("wrangler.toml's [vars] are vars of the table at their defaults, and no secret is among them", () => {
    const toml = read("wrangler.toml");
    const vars = /^\[vars\]\s*$([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? "";
    const byEnv = new Map(Object.values(SETTINGS).map((s) => [s.env as string, s]));
    // Set lines and commented-out examples alike.
    for (const [, commented, name, value] of vars.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)\s*=\s*"([^"]*)"/gm)) {
      const setting = byEnv.get(name!);
      expect(setting, `${name} in wrangler.toml is no setting of src/settings.ts`).toBeDefined();
      expect(setting!.kind, `${name} is a secret: never in [vars]`).toBe("var");
      if (commented === undefined && setting!.default !== undefined) {
        expect(value, `wrangler.toml's ${name} is its default`).toBe(setting!.default);
      }
    }
    for (const secret of Object.values(SETTINGS).filter((s) => s.kind === "secret")) {
      expect(toml).not.toMatch(new RegExp(`^\\s*${secret.env}\\s*=`, "m"));
    }
  });
});
