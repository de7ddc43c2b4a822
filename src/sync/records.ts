/**
 * The origin sync's records (docs/sync.md, "Body"): validation of one record, and the rows
 * at the edge it maps to. Pure functions, shared with the file import
 * (src/cli/django-dump.ts): one definition of a row, and of the strings SQLite keeps.
 */

export const KINDS = ["user", "organization", "membership", "social_account"] as const;
export type Kind = (typeof KINDS)[number];

export const MAX_RECORDS = 500;
export const MAX_USERNAME = 150;

/** A user's row, by the origin's integer id (the file import's); a delivery's users carry their key instead. */
export interface UserRow extends UserFields {
  id: number;
}
export interface UserFields {
  username: string;
  password: string | null;
  is_active: 0 | 1;
  /** The origin's USER_ID_FIELD value when that is not the integer primary key, in Django's lookup form; null: it is. */
  simplejwt_id: string | null;
  /** The fields the origin's token claims are written from, as JSON text `{field: value}` in its order; null: none. */
  claims: string | null;
}
export interface OrganizationRow {
  django_uuid: string;
  name: string;
}
/** A membership by the origin's keys: the edge's org id is looked up from the organization's UUID. */
export interface MembershipRow {
  django_uuid: string;
  user_id: number;
  org_uuid: string;
  active: 0 | 1;
}
export interface SocialAccountRow {
  id: number;
  user_id: number;
  provider: string;
  uid: string;
  login: string | null;
}

interface Base {
  /** The key as the edge keeps versions under it: decimal text or the UUID as sent. */
  key: string;
  version: number;
  index: number;
}
export type SyncRecord =
  | (Base & { kind: Kind; deleted: true })
  | (Base & { kind: "user"; deleted: false; row: UserFields; passwordChanged: boolean })
  | (Base & { kind: "organization"; deleted: false; row: OrganizationRow })
  | (Base & { kind: "membership"; deleted: false; row: MembershipRow })
  | (Base & { kind: "social_account"; deleted: false; row: SocialAccountRow });

/**
 * What a RecordError is about, for a caller that words it its own way (the file import):
 * `subject` the value at fault ("fields.username", "pk"), `problem` the rest of `detail`,
 * and, when the value is of the wrong type, `expected` (what it must be: "a string").
 */
export interface RecordFault {
  subject: string;
  problem: string;
  expected?: string;
}

export class RecordError extends Error {
  override readonly name = "RecordError";
  constructor(
    readonly detail: string,
    readonly index?: number,
    readonly fault?: RecordFault,
  ) {
    super(detail);
  }
}

/** A RecordError's `problem` for a string with a lone surrogate (SQLite would keep U+FFFD). */
export const LONE_SURROGATE = "holds a lone surrogate";

function invalid(subject: string, problem: string): RecordError {
  return new RecordError(`${subject} ${problem}`, undefined, { subject, problem });
}

function wrongType(subject: string, expected: string): RecordError {
  const problem = `must be ${expected}`;
  return new RecordError(`${subject} ${problem}`, undefined, { subject, problem, expected });
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function positiveId(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw wrongType(what, "a positive integer");
  }
  return value;
}

/** The origin's UUIDs, in Django's form (lower case, hyphenated), whatever form they came in. */
export function canonicalUuid(value: unknown, what: string): string {
  if (typeof value !== "string" || !UUID.test(value)) throw wrongType(what, "a UUID");
  const hex = value.replaceAll("-", "").toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** String.prototype.isWellFormed (ES2024; the runtimes have it, the compiler's lib not yet). */
function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** A string SQLite keeps as sent: well-formed UTF-16 (no lone surrogate), no NUL. */
function text(value: unknown, what: string, { min = 0, max = Number.POSITIVE_INFINITY } = {}): string {
  if (typeof value !== "string") throw wrongType(what, "a string");
  if (!isWellFormed(value)) throw invalid(what, LONE_SURROGATE);
  if (value.includes("\0")) throw invalid(what, "holds a NUL character");
  const length = [...value].length; // code points, as Django's max_length counts
  if (length < min || length > max) {
    throw invalid(what, max === Number.POSITIVE_INFINITY ? "must not be empty" : `must be ${min} to ${max} characters`);
  }
  return value;
}

function optionalText(value: unknown, what: string): string | null {
  return value === null || value === undefined ? null : text(value, what);
}

function flag(value: unknown, what: string): 0 | 1 {
  if (typeof value !== "boolean") throw wrongType(what, "true or false");
  return value ? 1 : 0;
}

/**
 * The key as the edge keeps versions under it: a social account's integer in decimal; a
 * user's integer in decimal, or its UUID (an origin whose user model has a UUID primary key)
 * hyphenated, as the other kinds' UUIDs: the two forms never meet (a UUID has hyphens).
 */
function keyOf(kind: Kind, key: unknown): string {
  if (kind === "social_account") return String(positiveId(key, "key"));
  if (kind === "user") {
    if (typeof key === "string" && UUID.test(key)) return canonicalUuid(key, "key");
    if (typeof key !== "number" || !Number.isSafeInteger(key) || key < 1) {
      throw wrongType("key", "a positive integer or a UUID");
    }
    return String(key);
  }
  return canonicalUuid(key, "key");
}

/** A user's key (keyOf) that is the origin's UUID, not its integer id. */
export function isUuidUserKey(key: string): boolean {
  return key.includes("-");
}

/**
 * What a row at the edge is renamed to when the origin gives its username or organization
 * name to another row (the sync's DISPLACE_USERS and DISPLACE_ORGS, import-django's swap):
 * NUL, which no record passes, then `displaced:<id>`, unique per table. The row keeps it
 * until its own change arrives. As SQL over the row's `id` column.
 */
export const DISPLACED_NAME_SQL = "char(0) || 'displaced:' || id";

/** A JSON value whose every string SQLite keeps as sent (JSON text holds NUL escaped: allowed). */
function jsonValue(value: unknown, what: string): void {
  if (typeof value === "string") {
    if (!isWellFormed(value)) throw invalid(what, LONE_SURROGATE);
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) jsonValue(item, `${what}[${index}]`);
  } else if (isObject(value)) {
    for (const [name, item] of Object.entries(value)) {
      if (!isWellFormed(name)) throw invalid(`a key of ${what}`, LONE_SURROGATE);
      jsonValue(item, `${what}.${name}`);
    }
  } else if (typeof value === "number" ? !Number.isFinite(value) : value !== null && typeof value !== "boolean") {
    throw wrongType(what, "a JSON value");
  }
}

/** The claims' fields, `{field: value}` in the origin's order, as JSON text; absent or null: none. */
function claimFields(value: unknown, what: string): string | null {
  if (value === null || value === undefined) return null;
  if (!isObject(value)) throw wrongType(what, "an object");
  jsonValue(value, what);
  return JSON.stringify(value);
}

/** A user's row from the origin's fields. */
export function userRow(id: number, fields: Obj): UserRow {
  return { id, ...userFields(fields) };
}

/** A user's fields, as the origin sends them. */
export function userFields(fields: Obj): UserFields {
  return {
    username: text(fields.username, "fields.username", { min: 1, max: MAX_USERNAME }),
    password: optionalText(fields.password, "fields.password"),
    is_active: flag(fields.is_active, "fields.is_active"),
    simplejwt_id:
      fields.simplejwt_id === null || fields.simplejwt_id === undefined
        ? null
        : text(fields.simplejwt_id, "fields.simplejwt_id"), // "" too: a unique CharField may hold it once
    claims: claimFields(fields.claims, "fields.claims"),
  };
}

export function organizationRow(uuid: string, fields: Obj): OrganizationRow {
  return { django_uuid: uuid, name: text(fields.name, "fields.name", { min: 1 }) };
}

/** A membership's row, or undefined when its user or organization is null (gone at the edge too). */
export function membershipRow(uuid: string, fields: Obj): MembershipRow | undefined {
  if (fields.user === null || fields.org === null) return undefined;
  return {
    django_uuid: uuid,
    user_id: positiveId(fields.user, "fields.user"),
    org_uuid: canonicalUuid(fields.org, "fields.org"),
    active: flag(fields.active, "fields.active"),
  };
}

export function socialAccountRow(id: number, fields: Obj): SocialAccountRow {
  return {
    id,
    user_id: positiveId(fields.user, "fields.user"),
    provider: text(fields.provider, "fields.provider", { min: 1 }),
    uid: text(fields.uid, "fields.uid", { min: 1 }),
    login: optionalText(fields.login, "fields.login"),
  };
}

/** One record of a delivery, validated; a RecordError names what is wrong. */
export function parseRecord(raw: unknown, index: number): SyncRecord {
  try {
    if (!isObject(raw)) throw new RecordError("a record must be an object");
    const kind = raw.kind;
    if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind)) {
      throw new RecordError(`unknown kind ${JSON.stringify(kind)}`);
    }
    const k = kind as Kind;
    const key = keyOf(k, raw.key);
    const version = raw.version;
    if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0) {
      throw new RecordError("version must be a non-negative integer");
    }
    if (raw.deleted !== undefined && typeof raw.deleted !== "boolean") {
      throw new RecordError("deleted must be true or false");
    }
    if (raw.deleted === true) return { kind: k, key, version, index, deleted: true };
    if (!isObject(raw.fields)) throw new RecordError("fields must be an object");
    const fields = raw.fields;
    switch (k) {
      case "user": {
        const changed = raw.password_changed ?? false;
        if (typeof changed !== "boolean") throw new RecordError("password_changed must be true or false");
        return {
          kind: k,
          key,
          version,
          index,
          deleted: false,
          row: userFields(fields),
          passwordChanged: changed,
        };
      }
      case "organization":
        return { kind: k, key, version, index, deleted: false, row: organizationRow(key, fields) };
      case "membership": {
        const row = membershipRow(key, fields);
        return row === undefined
          ? { kind: k, key, version, index, deleted: true }
          : { kind: k, key, version, index, deleted: false, row };
      }
      case "social_account":
        return { kind: k, key, version, index, deleted: false, row: socialAccountRow(Number(key), fields) };
    }
  } catch (error) {
    if (error instanceof RecordError) throw new RecordError(error.detail, index, error.fault);
    throw error;
  }
}

export type FullPhase = "begin" | "page" | "end";
export interface Delivery {
  records: SyncRecord[];
  /** `counts` (at `end` only): how many rows of each kind the run sent; only those kinds are reconciled. */
  full?: { run: string; phase: FullPhase; counts?: Partial<Record<Kind, number>> };
}

/** A delivery's body (parsed JSON), validated whole: the first bad record is named. */
export function parseDelivery(body: unknown): Delivery {
  if (!isObject(body)) throw new RecordError("the body must be a JSON object");
  const rawRecords = body.records ?? [];
  if (!Array.isArray(rawRecords)) throw new RecordError("records must be a list");
  if (rawRecords.length > MAX_RECORDS) throw new RecordError(`at most ${MAX_RECORDS} records a delivery`);
  const records = rawRecords.map(parseRecord);
  const delivery: Delivery = { records };
  if (body.full !== undefined && body.full !== null) {
    const full = body.full;
    if (!isObject(full)) throw new RecordError("full must be an object");
    const run = text(full.run, "full.run", { min: 1, max: 128 });
    if (full.phase !== "begin" && full.phase !== "page" && full.phase !== "end") {
      throw new RecordError("full.phase must be begin, page or end");
    }
    delivery.full = { run, phase: full.phase };
    if (full.phase === "end") delivery.full.counts = counts(full.counts);
  }
  return delivery;
}

function counts(raw: unknown): Partial<Record<Kind, number>> {
  if (!isObject(raw)) throw new RecordError("full.counts must be an object at a run's end");
  const result: Partial<Record<Kind, number>> = {};
  for (const [kind, count] of Object.entries(raw)) {
    if (!(KINDS as readonly string[]).includes(kind))
      throw new RecordError(`full.counts: unknown kind ${JSON.stringify(kind)}`);
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
      throw new RecordError(`full.counts.${kind} must be a non-negative integer`);
    }
    result[kind as Kind] = count;
  }
  return result;
}

/**
 * What a delivery stages, one record per (kind, key): of several for one row, the highest
 * version (the last of equals) stands for it. In the order the batch applies them.
 */
export function distinctRecords(records: readonly SyncRecord[]): SyncRecord[] {
  const byKey = new Map<string, SyncRecord>();
  for (const record of records) {
    const id = `${record.kind} ${record.key}`;
    const known = byKey.get(id);
    if (known === undefined || record.version >= known.version) byKey.set(id, record);
  }
  return [...byKey.values()];
}
