/**
 * The JSON of `manage.py dumpdata users.User users.OrgAccount users.Membership
 * socialaccount.SocialAccount`, read and checked whole before anything is written: every
 * record's model, key and fields, every reference between them, and no two records claiming
 * one user id, username, organization, membership or social account. A record's fields map
 * to the edge's row as the origin sync's do (src/sync/records.ts: userRow, organizationRow,
 * membershipRow, socialAccountRow), so both hold one rule for a row and for the text SQLite
 * stores: well-formed Unicode only (a lone surrogate is stored as U+FFFD, so two distinct
 * names could become one), no NUL, a username of 1 to 150 code points. What is the file's
 * own is here: its shape (model, pk, fields, every field present), duplicates within it,
 * the skipped records, GitHub's login out of extra_data, the iteration ceiling of password
 * hashes and the rule for an organization's name. An error names the record: its index in
 * the file, model and pk.
 */
import { ALGORITHM, MAX_ITERATIONS } from "../passwords/django-format";
import {
  canonicalUuid,
  LONE_SURROGATE,
  type MembershipRow,
  membershipRow,
  type OrganizationRow,
  organizationRow,
  RecordError,
  type SocialAccountRow,
  socialAccountRow,
  type UserRow,
  userRow,
} from "../sync/records";
import { orgNameProblem } from "./context";

/** A row as the sync maps it, and the record of the file it came from. */
interface FromRecord {
  index: number;
}
export type DumpUser = UserRow & FromRecord;
export type DumpOrg = OrganizationRow & FromRecord;
export type DumpMembership = MembershipRow & FromRecord;
/** An allauth SocialAccount of a provider the edge serves (GitHub); `login` is extra_data's. */
export type DumpSocialAccount = SocialAccountRow & FromRecord;

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
/** The fields each model's record must have (dumpdata writes them all). */
const FIELDS: Record<(typeof MODELS)[number], readonly string[]> = {
  "users.user": ["username", "password", "is_active"],
  "users.orgaccount": ["name"],
  "users.membership": ["user", "org", "active"],
  "socialaccount.socialaccount": ["user", "provider", "uid", "extra_data"],
};
/** The social providers the edge logs in with; other providers' accounts are skipped. */
const SOCIAL_PROVIDERS = ["github"];

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/**
 * A RecordError of the sync's mapping in the file's words: `field "username" ...`, with the
 * value's type when it is the wrong one. `given` holds the fields the mapping was handed.
 */
function fieldProblem(error: RecordError, given: Record<string, unknown>): string {
  const fault = error.fault;
  if (fault === undefined || !fault.subject.startsWith("fields.")) return error.detail;
  const name = fault.subject.slice("fields.".length);
  const shown = name === "login" ? "extra_data.login" : name;
  if (fault.expected !== undefined) return `field "${shown}" must be ${fault.expected}, not ${describe(given[name])}`;
  if (fault.problem === LONE_SURROGATE) {
    return `field "${shown}" ${LONE_SURROGATE}, which SQLite would store as U+FFFD (so distinct values could collide)`;
  }
  return `field "${shown}" ${fault.problem}`;
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
    const label = model.toLowerCase() as (typeof MODELS)[number];
    if (!MODELS.includes(label)) {
      throw new DumpError(`${where(model, pk)}: unknown model; expected ${MODELS.join(", ")}`);
    }
    const at = where(label, pk);
    if (fields === null || typeof fields !== "object" || Array.isArray(fields))
      throw new DumpError(`${at}: no fields object`);
    const given = fields as Record<string, unknown>;
    for (const name of FIELDS[label]) {
      if (!(name in given)) throw new DumpError(`${at}: missing field "${name}"`);
    }
    /** The sync's mapping of this record's fields; its RecordError named as the file's record. */
    const mapped = <T>(map: () => T, mapping: Record<string, unknown> = given): T => {
      try {
        return map();
      } catch (error) {
        if (error instanceof RecordError) throw new DumpError(`${at}: ${fieldProblem(error, mapping)}`);
        throw error;
      }
    };
    const positivePk = () => {
      if (typeof pk !== "number" || !Number.isSafeInteger(pk) || pk < 1)
        throw new DumpError(`${at}: pk must be a positive integer, not ${describe(pk)}`);
      return pk;
    };

    switch (label) {
      case "users.user": {
        const user: DumpUser = { index, ...mapped(() => userRow(positivePk(), given)) };
        const hash = user.password ?? "";
        const count = hash.startsWith(`${ALGORITHM}$`) ? Number(hash.split("$")[1]) : 0;
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
            `${at}: username ${JSON.stringify(user.username)} appears twice (also record ${sameName.index}, pk ${sameName.id})`,
          );
        usersById.set(user.id, user);
        usersByName.set(user.username, user);
        dump.users.push(user);
        break;
      }
      case "users.orgaccount": {
        const org: DumpOrg = { index, ...mapped(() => organizationRow(canonicalUuid(pk, "pk"), given)) };
        const problem = orgNameProblem(org.name);
        if (problem !== undefined)
          throw new DumpError(`${at}: name ${JSON.stringify(org.name)} cannot be served: ${problem}`);
        const sameUuid = orgsByUuid.get(org.django_uuid);
        if (sameUuid)
          throw new DumpError(`${at}: organization ${org.django_uuid} appears twice (also record ${sameUuid.index})`);
        const sameName = orgsByName.get(org.name);
        if (sameName)
          throw new DumpError(
            `${at}: organization name ${JSON.stringify(org.name)} appears twice (also record ${sameName.index}, pk ${JSON.stringify(sameName.django_uuid)})`,
          );
        orgsByUuid.set(org.django_uuid, org);
        orgsByName.set(org.name, org);
        dump.orgs.push(org);
        break;
      }
      case "users.membership": {
        const uuid = mapped(() => canonicalUuid(pk, "pk"));
        const row = mapped(() => membershipRow(uuid, given));
        const same = membershipsByUuid.get(uuid);
        if (same) throw new DumpError(`${at}: membership ${uuid} appears twice (also record ${same.index})`);
        if (row === undefined) {
          // The sync's rule: a membership whose user or organization is null is gone at the edge too.
          const missing = [given.user === null ? "user" : "", given.org === null ? "org" : ""]
            .filter(Boolean)
            .join(" and ");
          dump.skipped.push({ index, model: label, pk: uuid, reason: `${missing} is null` });
          break;
        }
        const membership: DumpMembership = { index, ...row };
        membershipsByUuid.set(uuid, membership);
        dump.memberships.push(membership);
        break;
      }
      case "socialaccount.socialaccount": {
        // allauth's JSONField; older versions serialized it as a JSON string.
        let extra = given.extra_data;
        if (typeof extra === "string") {
          try {
            extra = JSON.parse(extra);
          } catch {
            throw new DumpError(`${at}: field "extra_data" must be an object or its JSON, not ${describe(extra)}`);
          }
        }
        if (extra === null || typeof extra !== "object" || Array.isArray(extra))
          throw new DumpError(`${at}: field "extra_data" must be an object or its JSON, not ${describe(extra)}`);
        const served = SOCIAL_PROVIDERS.includes(given.provider as string);
        // The sync's fields: login is extra_data's (GitHub's), and only a served provider's is read.
        const syncFields = { ...given, login: served ? (extra as Record<string, unknown>).login : null };
        const account: DumpSocialAccount = {
          index,
          ...mapped(() => socialAccountRow(positivePk(), syncFields), syncFields),
        };
        const sameId = socialById.get(account.id);
        if (sameId)
          throw new DumpError(`${at}: social account id ${account.id} appears twice (also record ${sameId.index})`);
        if (!served) {
          dump.skipped.push({
            index,
            model: label,
            pk: String(account.id),
            reason: `provider ${JSON.stringify(account.provider)} is not served here`,
          });
          break;
        }
        const key = `${account.provider} ${account.uid}`;
        const sameUid = socialByUid.get(key);
        if (sameUid)
          throw new DumpError(
            `${at}: ${account.provider} uid ${JSON.stringify(account.uid)} appears twice (also record ${sameUid.index}, pk ${sameUid.id})`,
          );
        socialById.set(account.id, account);
        socialByUid.set(key, account);
        dump.socialAccounts.push(account);
        break;
      }
    }
  });

  // References, once every record is known (dumpdata orders by model, but a file may not).
  const pairs = new Map<string, DumpMembership>();
  for (const membership of dump.memberships) {
    const at = `record ${membership.index} (users.membership, pk "${membership.django_uuid}")`;
    if (!usersById.has(membership.user_id))
      throw new DumpError(`${at}: user ${membership.user_id} is not among the file's users`);
    if (!orgsByUuid.has(membership.org_uuid))
      throw new DumpError(`${at}: org ${membership.org_uuid} is not among the file's organizations`);
    const key = `${membership.user_id} ${membership.org_uuid}`;
    const same = pairs.get(key);
    if (same)
      throw new DumpError(
        `${at}: user ${membership.user_id} is a member of org ${membership.org_uuid} twice (also record ${same.index}, pk ${JSON.stringify(same.django_uuid)})`,
      );
    pairs.set(key, membership);
  }
  return dump;
}
