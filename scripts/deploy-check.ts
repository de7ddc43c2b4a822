/**
 * What `npm run deploy` refuses before calling `wrangler deploy`: the placeholder ids and
 * domain wrangler.toml ships with, and routes that cover more than the API's paths with
 * nowhere to forward the rest. `wrangler deploy --dry-run` needs none of this, so CI's
 * dry run passes on the placeholders and only a real deploy stops on them.
 */

export interface DeployConfig {
  d1Databases: readonly { binding: string; databaseId?: string | undefined }[];
  kvNamespaces: readonly { binding: string; id?: string | undefined }[];
  routes: readonly string[];
  vars: Readonly<Record<string, unknown>>;
}

/** All zeros (with or without dashes), or missing: the ids wrangler.toml ships with. */
function placeholderId(id: string | undefined): boolean {
  return id === undefined || /^[0-]*$/.test(id);
}

const PLACEHOLDER_DOMAIN = /(^|\.)example\.(org|com|net)(\/|$)/;

/** Every reason the configuration cannot be deployed as it is; empty when it can. */
export function deployProblems(config: DeployConfig): string[] {
  const problems: string[] = [];
  for (const db of config.d1Databases) {
    if (placeholderId(db.databaseId)) {
      problems.push(
        `D1 binding ${db.binding}: database_id is a placeholder; put the id \`npx wrangler d1 create org-token-edge\` printed (or \`npx wrangler d1 list\` shows).`,
      );
    }
  }
  for (const kv of config.kvNamespaces) {
    if (placeholderId(kv.id)) {
      problems.push(
        `KV binding ${kv.binding}: id is a placeholder; put the id \`npx wrangler kv namespace create ${kv.binding}\` printed (or \`npx wrangler kv namespace list\` shows).`,
      );
    }
  }
  for (const pattern of config.routes) {
    if (PLACEHOLDER_DOMAIN.test(pattern.split("/")[0] ?? "")) {
      problems.push(`route ${pattern}: example.org is a placeholder; replace it (and zone_name) with your zone.`);
    }
  }
  const origin = config.vars.ORIGIN_URL;
  if (config.routes.length > 0 && (typeof origin !== "string" || origin.trim() === "")) {
    problems.push(
      "routes are set but ORIGIN_URL is not: the route patterns also cover neighbouring paths (/api/org_tokens/...), which would answer 404 instead of reaching the origin. Set ORIGIN_URL in [vars].",
    );
  } else if (typeof origin === "string" && PLACEHOLDER_DOMAIN.test(new URL(origin, "https://x").host)) {
    problems.push("ORIGIN_URL points at example.org, a placeholder; set the origin's URL.");
  }
  return problems;
}
