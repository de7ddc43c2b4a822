/**
 * The JSON of `manage.py dumpdata users.User users.OrgAccount users.Membership
 * socialaccount.SocialAccount`, read and checked whole before anything is written: every
 * record's model, key and fields, every reference between them, and no two records claiming
 * one user id, username, organization, membership or social account. Text is checked as
 * SQLite will store it: well-formed Unicode only (a lone surrogate is stored as U+FFFD, so two
 * distinct names could become one), no NUL. Password hashes above the iteration ceiling are
 * refused. An error names the record: its index in the file, model and pk.
 */
import { ALGORITHM, MAX_ITERATIONS } from "../../src/passwords/django-format";
import { orgNameProblem } from "./context";

export interface DumpUser {
  index: number;
  id: number;
  username: string;
  password: string;
  isActive: boolean;
}

export interface DumpOrg {
  index: number;
  /** The origin's primary key, a UUID, lowercase. */
  uuid: string;
  name: string;
}

export interface DumpMembership {
  index: number;
  uuid: string;
  userId: number;
  orgUuid: string;
  active: boolean;
}

/** An allauth SocialAccount of a provider the edge serves (GitHub); `login` is extra_data's. */
export interface DumpSocialAccount {
  index: number;
  id: number;
  userId: number;
  provider: string;
  uid: string;
  login: string | null;
}

export interface Skipped {
  index: number;
  model: string;
  pk: string;
  reason: string;
}

export interface Dump {
  users: DumpUser[];
  orgs: DumpOrg[];
  memberships: DumpMembership[];
  socialAccounts: DumpSocialAccount[];
  skipped: Skipped[];
}

export class DumpError extends Error {
  override readonly name = "DumpError";
}

const MODELS = ["users.user", "users.orgaccount", "users.membership", "socialaccount.socialaccount"] as const;
/** The social providers the edge logs in with; other providers' accounts are skipped. */
const SOCIAL_PROVIDERS = ["github"];
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A UUID as Django's UUIDField serializes it (hyphenated, lowercase), whatever the input's case. */
function canonicalUuid(text: string): string {
  const hex = text.replaceAll("-", "").toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/** String.prototype.isWellFormed (ES2024, beyond this build's lib): in Unicode mode only a lone surrogate is \p{Cs}. */
function wellFormed(value: string): boolean {
  return !/\p{Cs}/u.test(value);
}

/** Parse and check a dump; throws DumpError naming the first bad record. */
export function parseDump(text: string): Dump {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DumpError(`not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data))
    throw new DumpError(`expected a JSON array of records (dumpdata's format), not ${describe(data)}`);

  const dump: Dump = { users: [], orgs: [], memberships: [], socialAccounts: [], skipped: [] };
  const usersById = new Map<number, DumpUser>();
  const usersByName = new Map<string, DumpUser>();
  const orgsByUuid = new Map<string, DumpOrg>();
  const orgsByName = new Map<string, DumpOrg>();
  const membershipsByUuid = new Map<string, DumpMembership>();
  const socialById = new Map<number, DumpSocialAccount>();
  const socialByUid = new Map<string, DumpSocialAccount>();

  data.forEach((record: unknown, index) => {
    const where = (model: string, pk?: unknown) =>
      `record ${index} (${model}${pk === undefined ? "" : `, pk ${JSON.stringify(pk)}`})`;
    if (record === null || typeof record !== "object" || Array.isArray(record)) {
      throw new DumpError(`record ${index}: expected an object with model, pk and fields, not ${describe(record)}`);
    }
    const { model, pk, fields } = record as { model?: unknown; pk?: unknown; fields?: unknown };
    if (typeof model !== "string") throw new DumpError(`record ${index}: no model name`);
    const label = model.toLowerCase();
    if (!(MODELS as readonly string[]).includes(label)) {
      throw new DumpError(`${where(model, pk)}: unknown model; expected ${MODELS.join(", ")}`);
    }
    const at = where(label, pk);
    if (fields === null || typeof fields !== "object" || Array.isArray(fields))
      throw new DumpError(`${at}: no fields object`);
    const field = (name: string) => {
      if (!(name in fields)) throw new DumpError(`${at}: missing field "${name}"`);
      return (fields as Record<string, unknown>)[name];
    };
    const wrongType = (name: string, expected: string, value: unknown) =>
      new DumpError(`${at}: field "${name}" must be ${expected}, not ${describe(value)}`);
    const text = (name: string, maxLength: number, allowEmpty: boolean) => {
      const value = field(name);
      if (typeof value !== "string") throw wrongType(name, "a string", value);
      if ((!allowEmpty && value === "") || value.length > maxLength || value.includes("\0")) {
        throw new DumpError(
          `${at}: field "${name}" must be ${allowEmpty ? "" : "1 to "}${maxLength} characters without NUL`,
        );
      }
      if (!wellFormed(value)) {
        throw new DumpError(
          `${at}: field "${name}" holds a lone surrogate, which SQLite would store as U+FFFD (so distinct values could collide)`,
        );
      }
      return value;
    };
    const positiveId = (name: string, value: unknown) => {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1)
        throw wrongType(name, "a positive integer", value);
      return value;
    };
    const flag = (name: string) => {
      const value = field(name);
      if (typeof value !== "boolean") throw wrongType(name, "true or false", value);
      return value;
    };
    const uuidPk = () => {
      if (typeof pk !== "string" || !UUID.test(pk)) throw new DumpError(`${at}: pk must be a UUID`);
      return canonicalUuid(pk);
    };

    switch (label) {
      case "users.user": {
        if (typeof pk !== "number" || !Number.isSafeInteger(pk) || pk < 1)
          throw new DumpError(`${at}: pk must be a positive integer`);
        // Django's own limits: username max_length 150, password (the encoded hash) 128.
        const user: DumpUser = {
          index,
          id: pk,
          username: text("username", 150, false),
          password: text("password", 128, true),
          isActive: flag("is_active"),
        };
        const count = user.password.startsWith(`${ALGORITHM}$`) ? Number(user.password.split("$")[1]) : 0;
        if (count > MAX_ITERATIONS) {
          throw new DumpError(
            `${at}: password hash has ${count} iterations, above the ceiling of ${MAX_ITERATIONS}; have Django rehash it (log in once, or set a new password)`,
          );
        }
        const sameId = usersById.get(user.id);
        if (sameId) throw new DumpError(`${at}: user id ${user.id} appears twice (also record ${sameId.index})`);
        const sameName = usersByName.get(user.username);
        if (sameName)
          throw new DumpError(
            `${at}: username ${JSON.stringify(user.username)} appears twice (also record ${sameName.index})`,
          );
        usersById.set(user.id, user);
        usersByName.set(user.username, user);
        dump.users.push(user);
        break;
      }
      case "users.orgaccount": {
        const org: DumpOrg = { index, uuid: uuidPk(), name: text("name", 255, false) };
        const problem = orgNameProblem(org.name);
        if (problem !== undefined)
          throw new DumpError(`${at}: name ${JSON.stringify(org.name)} cannot be served: ${problem}`);
        const sameUuid = orgsByUuid.get(org.uuid);
        if (sameUuid)
          throw new DumpError(`${at}: organization ${org.uuid} appears twice (also record ${sameUuid.index})`);
        const sameName = orgsByName.get(org.name);
        if (sameName)
          throw new DumpError(
            `${at}: organization name ${JSON.stringify(org.name)} appears twice (also record ${sameName.index})`,
          );
        orgsByUuid.set(org.uuid, org);
        orgsByName.set(org.name, org);
        dump.orgs.push(org);
        break;
      }
      case "users.membership": {
        const uuid = uuidPk();
        const user = field("user");
        const org = field("org");
        const active = flag("active");
        if (user !== null && (typeof user !== "number" || !Number.isSafeInteger(user) || user < 1)) {
          throw wrongType("user", "a user id or null", user);
        }
        if (org !== null && (typeof org !== "string" || !UUID.test(org)))
          throw wrongType("org", "an organization's UUID or null", org);
        const same = membershipsByUuid.get(uuid);
        if (same) throw new DumpError(`${at}: membership ${uuid} appears twice (also record ${same.index})`);
        if (user === null || org === null) {
          const missing = [user === null ? "user" : "", org === null ? "org" : ""].filter(Boolean).join(" and ");
          dump.skipped.push({ index, model: label, pk: uuid, reason: `${missing} is null` });
          break;
        }
        const membership: DumpMembership = { index, uuid, userId: user, orgUuid: canonicalUuid(org), active };
        membershipsByUuid.set(uuid, membership);
        dump.memberships.push(membership);
        break;
      }
      case "socialaccount.socialaccount": {
        const id = positiveId("pk", pk);
        const userId = positiveId("user", field("user"));
        const provider = text("provider", 200, false);
        const uid = text("uid", 191, false);
        // allauth's JSONField; older versions serialized it as a JSON string.
        let extra = field("extra_data");
        if (typeof extra === "string") {
          try {
            extra = JSON.parse(extra);
          } catch {
            throw wrongType("extra_data", "an object or its JSON", extra);
          }
        }
        if (extra === null || typeof extra !== "object" || Array.isArray(extra))
          throw wrongType("extra_data", "an object or its JSON", extra);
        const sameId = socialById.get(id);
        if (sameId) throw new DumpError(`${at}: social account id ${id} appears twice (also record ${sameId.index})`);
        if (!SOCIAL_PROVIDERS.includes(provider)) {
          dump.skipped.push({
            index,
            model: label,
            pk: String(id),
            reason: `provider ${JSON.stringify(provider)} is not served here`,
          });
          break;
        }
        const rawLogin = (extra as Record<string, unknown>).login;
        let login: string | null = null;
        if (rawLogin !== undefined && rawLogin !== null) {
          if (typeof rawLogin !== "string" || rawLogin === "" || rawLogin.includes("\0") || !wellFormed(rawLogin))
            throw wrongType("extra_data.login", "a non-empty well-formed string", rawLogin);
          login = rawLogin;
        }
        const key = `${provider} ${uid}`;
        const sameUid = socialByUid.get(key);
        if (sameUid)
          throw new DumpError(
            `${at}: ${provider} uid ${JSON.stringify(uid)} appears twice (also record ${sameUid.index})`,
          );
        const account: DumpSocialAccount = { index, id, userId, provider, uid, login };
        socialById.set(id, account);
        socialByUid.set(key, account);
        dump.socialAccounts.push(account);
        break;
      }
    }
  });

  // References, once every record is known (dumpdata orders by model, but a file may not).
  const pairs = new Map<string, DumpMembership>();
  for (const membership of dump.memberships) {
    const at = `record ${membership.index} (users.membership, pk "${membership.uuid}")`;
    if (!usersById.has(membership.userId))
      throw new DumpError(`${at}: user ${membership.userId} is not among the file's users`);
    if (!orgsByUuid.has(membership.orgUuid))
      throw new DumpError(`${at}: org ${membership.orgUuid} is not among the file's organizations`);
    const key = `${membership.userId} ${membership.orgUuid}`;
    const same = pairs.get(key);
    if (same)
      throw new DumpError(
        `${at}: user ${membership.userId} is a member of org ${membership.orgUuid} twice (also record ${same.index})`,
      );
    pairs.set(key, membership);
  }
  return dump;
}
