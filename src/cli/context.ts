/**
 * What every admin command is given and shares: the parsed flags, the output, the database
 * (opened on first use), the errors that end a command, and the checks of its arguments.
 */
import type { Db, DbTarget, Value } from "./lib/db";

/** A failure the operator caused or can fix: printed as is, exit status 1. */
export class AdminError extends Error {
  override readonly name = "AdminError";
}

/** A command line that does not parse: exit status 2, with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The process around a command: replaced in tests that run commands in-process. */
export interface Io {
  /** How the help names the program: `npm run admin --` or `org-token-admin`. */
  program: string;
  /** The configuration used without --config. */
  defaultConfig(): string | undefined;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (a redrawn progress bar) or not (a few plain lines). */
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** A new password, never from the command line: a prompt, or stdin when it is not a terminal. */
  readPassword(): Promise<string>;
  /**
   * How a local database is opened (default: lib/db's openLocal, a platform proxy per
   * command). Tests that run many commands in-process pass one open database to share.
   */
  openLocal?(target: DbTarget): Promise<Db>;
  /** How a KV entry is written (default: `wrangler kv key put`, local state or --remote); tests pass their own. */
  putKv?(target: DbTarget, binding: string, key: string, value: string, expirationTtl: number): Promise<void>;
}

export interface Flags {
  remote?: boolean;
  config?: string;
  binding?: string;
  "persist-to"?: string;
  "via-wrangler"?: boolean;
  json?: boolean;
  id?: string;
  inactive?: boolean;
  active?: boolean;
  password?: boolean;
  "dry-run"?: boolean;
}

/** The flags that belong to some commands only. */
export type CommandFlag = "id" | "inactive" | "active" | "password" | "dry-run";

export interface Context {
  flags: Flags;
  io: Io;
  /** The database the flags name (configuration, binding, local state). */
  target(): DbTarget;
  /** The database, opened on first use (so a password is asked for before wrangler starts). */
  db(): Promise<Db>;
}

export interface Command {
  /** `group verb`, or a single word for a command of its own (import-django). */
  words: [string, string] | [string];
  /** Positional arguments; a trailing "?" marks an optional one. */
  args: string[];
  flags: CommandFlag[];
  summary: string;
  run(ctx: Context, args: string[]): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// Arguments

// Django's username validator (UnicodeUsernameValidator) and length.
const USERNAME = /^[\p{L}\p{N}_.@+-]{1,150}$/u;

export function isUsername(value: string): boolean {
  return USERNAME.test(value);
}

export function username(value: string): string {
  if (!isUsername(value)) {
    throw new UsageError(`invalid username ${JSON.stringify(value)}: up to 150 letters, digits and @ . + - _`);
  }
  return value;
}

/** Why a string cannot be an organization name, or undefined when it can. */
export function orgNameProblem(value: string): string | undefined {
  // It becomes a path segment (/api/membership_status/<org>/) and a token claim.
  if (value === "" || value.trim() !== value || value.length > 255 || /[\p{Cc}/]/u.test(value)) {
    return '1 to 255 characters, no surrounding spaces, no control characters, no "/"';
  }
  return undefined;
}

export function orgName(value: string): string {
  const problem = orgNameProblem(value);
  if (problem !== undefined) throw new UsageError(`invalid organization name ${JSON.stringify(value)}: ${problem}`);
  return value;
}

export function userId(value: string): number {
  const id = Number(value);
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(id)) {
    throw new UsageError(`--id must be a positive integer, not ${JSON.stringify(value)}`);
  }
  return id;
}

// ---------------------------------------------------------------------------------------
// Output

export function out(ctx: Context, line: string): void {
  ctx.io.stdout(`${line}\n`);
}

/** A list as aligned columns for people, or with --json as an array of objects. */
export function printList<T>(ctx: Context, rows: T[], columns: [header: string, cell: (row: T) => string][]) {
  if (ctx.flags.json) return out(ctx, JSON.stringify(rows, null, 2));
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  for (const line of cells)
    out(
      ctx,
      line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

/** What a change did: a sentence, or with --json the affected row. */
export function printDone(ctx: Context, row: Record<string, unknown>, sentence: string) {
  out(ctx, ctx.flags.json ? JSON.stringify(row) : sentence);
}

export const yesNo = (flag: boolean) => (flag ? "yes" : "no");

// ---------------------------------------------------------------------------------------
// Lookups shared by the membership and token commands

interface Target {
  user_id: number | null;
  org_id: number | null;
  membership_id: number | null;
}

/** Who and what a (username, org) pair names; throws for an unknown user or organization. */
export async function locate(db: Db, user: string, org: string): Promise<Target & { user_id: number; org_id: number }> {
  const [target] = await db.query<Target>(
    `SELECT (SELECT id FROM users_user WHERE username = ?1) AS user_id,
            (SELECT id FROM users_orgaccount WHERE name = ?2) AS org_id,
            (SELECT m.id FROM users_membership AS m
               JOIN users_user AS u ON u.id = m.user_id
               JOIN users_orgaccount AS o ON o.id = m.org_id
              WHERE u.username = ?1 AND o.name = ?2) AS membership_id`,
    [user, org],
  );
  if (target?.user_id == null) throw new AdminError(`unknown user: ${user}`);
  if (target.org_id == null) throw new AdminError(`unknown organization: ${org}`);
  return target as Target & { user_id: number; org_id: number };
}

export type { Db, Value };
