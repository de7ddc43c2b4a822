/** What the docs say the code does, checked against the code where that is cheap. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { orgTokenApi } from "../../src/api";
import { ROUTES } from "../../src/routes/table";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("docs/mounting.md", () => {
  // The bullet on tokens.middleware, up to "under `basePath`": its backquoted paths.
  const bullet = /- \*\*`tokens\.middleware`\*\*[\s\S]*?under `basePath`/.exec(read("docs/mounting.md"))?.[0] ?? "";
  const listed = [...bullet.matchAll(/`(\/[^`]*)`/g)].map(([, path]) => path!);

  it("the middleware's paths are the route table's, and the OpenAPI document's", () => {
    const owned = [...ROUTES.map((route) => route.path.replace(/\{\w+\}/g, "<org>")), "/api/schema/"];
    expect([...listed].sort()).toEqual([...owned].sort());
  });

  it("the API owns each of them, and not a path beside them", () => {
    const api = orgTokenApi({ bindings: () => ({ db: undefined, kv: undefined, secret: undefined }) });
    const owns = (path: string) => api.handles(new Request(`https://host.example${path.replace("<org>", "Org")}`));
    expect(listed.filter((path) => !owns(path))).toEqual([]);
    expect(owns("/api/org_token/other/")).toBe(false);
  });
});

describe("docs/admin.md", () => {
  it("lists the admin CLI's commands, every one and no other", async () => {
    const { COMMANDS } = await import("../../src/cli/main");
    const intro = read("docs/admin.md").split("\n\n\n")[1] ?? "";
    const lines = /lists the commands: ([\s\S]*?)\.\n/.exec(intro)?.[1] ?? "";
    const listed = [...lines.matchAll(/`([^`]+)`/g)].flatMap(([, group]) => {
      const [first, ...rest] = group!.replace(/ <[^>]+>/g, "").split(" ");
      return rest.length === 0
        ? [first!]
        : rest
            .join(" ")
            .split("|")
            .map((word) => `${first} ${word}`);
    });
    expect(listed.sort()).toEqual(COMMANDS.map((command) => command.words.join(" ")).sort());
  });
});

describe("what the docs and wrangler.toml point at exists", () => {
  const files = [
    "README.md",
    "wrangler.toml",
    ...readdirSync(new URL("../../docs/", import.meta.url)).map((name) => `docs/${name}`),
  ];
  const scripts = Object.keys((JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts);

  it.each(files)("%s: every `npm run <script>` is a script of package.json, every scripts/ file is there", (file) => {
    const text = read(file);
    const named = [...text.matchAll(/npm run ([\w:-]+)/g)].map(([, name]) => name!);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
    const paths = [...text.matchAll(/\bscripts\/[\w./-]+\.ts\b/g)].map(([path]) => path);
    expect(paths.filter((path) => !existsSync(new URL(`../../${path}`, import.meta.url)))).toEqual([]);
  });

  it('wrangler.toml\'s README "<section>" and docs/<file> "<section>" name headings that exist', () => {
    const text = read("wrangler.toml");
    const refs = [...text.matchAll(/(README|docs\/[\w-]+\.md) "([^"]+)"/g)].map(([, file, heading]) => ({
      file: file === "README" ? "README.md" : file!,
      heading: heading!,
    }));
    expect(refs.length).toBeGreaterThan(0);
    for (const { file, heading } of refs)
      expect(read(file), `${file} "${heading}"`).toMatch(
        new RegExp(`^#+ ${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"),
      );
  });
});
