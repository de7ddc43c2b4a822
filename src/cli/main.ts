/**
 * The admin CLI's command line: global options, the command table assembled from the
 * command groups, help, and the mapping of errors to exit statuses. `runAdmin` is the whole
 * program given its arguments and an `Io`; src/cli/npm-admin.ts (`npm run admin`) and
 * src/cli/cli.ts (the `org-token-admin` bin) only bind it to the process.
 */
import { parseArgs } from "node:util";
import { AdminError, type Command, type CommandFlag, type Context, type Flags, type Io, UsageError } from "./context";
import { IMPORT_COMMANDS } from "./import-django";
import { type Db, DbError, type DbTarget, openLocal, openViaWrangler, resolveTarget } from "./lib/db";
import { readNewPassword } from "./lib/password";
import { MissingWrangler } from "./lib/project";
import { MEMBER_COMMANDS } from "./members";
import { ORG_COMMANDS } from "./orgs";
import { SESSION_COMMANDS } from "./sessions";
import { TOKEN_COMMANDS } from "./tokens";
import { USER_COMMANDS } from "./users";

const OPTIONS = {
  remote: { type: "boolean" },
  config: { type: "string", short: "c" },
  binding: { type: "string" },
  "persist-to": { type: "string" },
  "via-wrangler": { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  id: { type: "string" },
  inactive: { type: "boolean" },
  active: { type: "boolean" },
  password: { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const;

const COMMAND_FLAGS: CommandFlag[] = ["id", "inactive", "active", "password", "dry-run"];

export const COMMANDS: Command[] = [
  ...ORG_COMMANDS,
  ...USER_COMMANDS,
  ...MEMBER_COMMANDS,
  ...TOKEN_COMMANDS,
  ...SESSION_COMMANDS,
  ...IMPORT_COMMANDS,
];

function synopsis(command: Command): string {
  const args = command.args.map((arg) => (arg.endsWith("?") ? `[<${arg.slice(0, -1)}>]` : `<${arg}>`));
  const flags = command.flags.map((flag) => (flag === "id" ? "[--id N]" : `[--${flag}]`));
  return [...command.words, ...args, ...flags].join(" ");
}

function help(program: string, group?: string): string {
  const commands = COMMANDS.filter((command) => group === undefined || command.words[0] === group);
  const width = Math.max(...commands.map((command) => synopsis(command).length));
  return `Usage: ${program} <command> [options]

Commands:
${commands.map((command) => `  ${synopsis(command).padEnd(width)}  ${command.summary}`).join("\n")}

Options:
  --config FILE     the wrangler configuration of the Worker whose database this is
                    (default: this project's wrangler.toml with npm run admin, else the
                    wrangler.{jsonc,json,toml} that wrangler finds from here)
  --binding NAME    the D1 binding in it (default: DB, or its only D1 database)
  --remote          the deployed database (wrangler d1 execute <binding> --remote)
  --persist-to DIR  the local state directory, as for wrangler (default: .wrangler/state
                    beside the configuration, which \`npm start\` and \`wrangler dev\` use)
  --json            machine-readable output
  --via-wrangler    run SQL through \`wrangler d1 execute\` on the local database too
                    (the code path of --remote; slower)
  -h, --help        this help

The local database gets the binding's pending migrations (its migrations_dir) when opened.
Passwords are never taken from the command line: they are asked for at a terminal, or read
from stdin when it is not one (printf '%s' "$PW" | ${program} user set-password alice).
token mint signs with JWT_SECRET_KEY (SIGNING_KEY under an asymmetric ALGORITHM) from the
environment or .dev.vars, and takes the token lifetimes and ALGORITHM from the environment,
.dev.vars or the configuration's [vars], as the Worker does.
import-django reads \`manage.py dumpdata users.User users.OrgAccount users.Membership\`.
session end-* write D1 first, then the KV blacklist (\`wrangler kv key put\`, local or --remote).
`;
}

/** Parse, run one command, close the database. Throws UsageError, AdminError, DbError. */
async function run(argv: string[], io: Io): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flags: Flags = parsed.values;
  const positionals = parsed.positionals;
  if (parsed.values.help) {
    io.stdout(
      help(io.program, COMMANDS.some((command) => command.words[0] === positionals[0]) ? positionals[0] : undefined),
    );
    return;
  }
  if (positionals.length === 0) throw new UsageError("no command given");
  const command = COMMANDS.find((c) => c.words.every((word, i) => positionals[i] === word));
  if (command === undefined) {
    const known = COMMANDS.some((c) => c.words[0] === positionals[0]);
    throw new UsageError(
      known ? `unknown ${positionals[0]} command: ${positionals[1] ?? "(none)"}` : `unknown command: ${positionals[0]}`,
    );
  }
  const args = positionals.slice(command.words.length);
  const required = command.args.filter((arg) => !arg.endsWith("?")).length;
  if (args.length < required || args.length > command.args.length) {
    throw new UsageError(`usage: ${synopsis(command)}`);
  }
  for (const flag of COMMAND_FLAGS) {
    if (flags[flag] !== undefined && !command.flags.includes(flag)) {
      throw new UsageError(`--${flag} does not apply to ${command.words.join(" ")}`);
    }
  }
  if (flags.remote && (flags["persist-to"] !== undefined || flags["via-wrangler"])) {
    throw new UsageError("--remote goes with neither --persist-to nor --via-wrangler");
  }

  let target: DbTarget | undefined;
  const resolveOnce = () => {
    if (target !== undefined) return target;
    const configPath = flags.config ?? io.defaultConfig();
    if (configPath === undefined) throw new UsageError("no wrangler configuration found here: give one with --config");
    target = resolveTarget(configPath, flags.binding, flags["persist-to"]);
    return target;
  };
  let opened: Promise<Db> | undefined;
  const ctx: Context = {
    flags,
    io,
    target: resolveOnce,
    db: () =>
      (opened ??= (async () => {
        const where = resolveOnce();
        if (flags.remote || flags["via-wrangler"]) return openViaWrangler(where, flags.remote === true);
        return (io.openLocal ?? openLocal)(where);
      })()),
  };
  try {
    await command.run(ctx, args);
  } catch (error) {
    if (error instanceof DbError && /no such (table|column)/.test(error.message)) {
      const { binding, configPath } = resolveOnce();
      const where = flags.remote ? "--remote" : "--local";
      throw new AdminError(
        `${error.message}\n(apply the migrations first: npx wrangler d1 migrations apply ${binding} ${where} --config ${configPath})`,
      );
    }
    throw error;
  } finally {
    if (opened !== undefined) await (await opened.catch(() => undefined))?.close();
  }
}

/** The program: its exit status, with every error reported on `io.stderr`. */
export async function runAdmin(argv: string[], io: Io): Promise<number> {
  try {
    await run(argv, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`admin: ${error.message}\nRun \`${io.program} --help\` for the commands.\n`);
      return 2;
    }
    if (error instanceof AdminError || error instanceof DbError || error instanceof MissingWrangler) {
      io.stderr(`admin: ${error.message}\n`);
      return 1;
    }
    io.stderr(`admin: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

/** The real process: its streams, environment and stdin. */
export function processIo(program: string, defaultConfig: () => string | undefined): Io {
  return {
    program,
    defaultConfig,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    readPassword: () => readNewPassword(),
  };
}
