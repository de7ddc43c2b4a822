/**
 * A made-up `manage.py dumpdata users.User users.OrgAccount users.Membership`, the same for
 * the same arguments: for the import's tests and for measuring its speed.
 */

export interface FixtureOptions {
  users: number;
  /** Default: one per 100 users, at least 3. */
  orgs?: number;
  /** Memberships whose user or org is null (deleted at the origin), included in the file. */
  nullMemberships?: number;
  seed?: number;
}

export interface DumpRecord {
  model: string;
  pk: number | string;
  fields: Record<string, unknown>;
}

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateDjangoDump({
  users,
  orgs = Math.max(3, Math.floor(users / 100)),
  nullMemberships = 0,
  seed = 1,
}: FixtureOptions): DumpRecord[] {
  const next = random(seed);
  const hex = (length: number) => Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join("");
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const b64 = (length: number) =>
    Array.from(
      { length },
      () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[Math.floor(next() * 64)],
    ).join("");
  const records: DumpRecord[] = [];
  for (let i = 1; i <= users; i++) {
    records.push({
      model: "users.user",
      pk: i,
      fields: {
        password: i % 50 === 0 ? `!${b64(40)}` : `pbkdf2_sha256$600000$${b64(22)}$${b64(43)}=`,
        last_login: null,
        is_superuser: false,
        username: `user${i}.${hex(4)}`,
        first_name: "",
        last_name: "",
        email: `user${i}@example.org`,
        is_staff: false,
        is_active: i % 17 !== 0,
        date_joined: "2024-01-01T00:00:00Z",
      },
    });
  }
  const orgIds: string[] = [];
  for (let i = 1; i <= orgs; i++) {
    const id = uuid();
    orgIds.push(id);
    records.push({ model: "users.orgaccount", pk: id, fields: { name: `Org${i}-${hex(4)}` } });
  }
  for (let user = 1; user <= users; user++) {
    // One or two organizations per user, never the same one twice.
    const first = Math.floor(next() * orgs);
    const chosen = user % 2 === 0 ? [first, (first + 1 + Math.floor(next() * (orgs - 1))) % orgs] : [first];
    for (const org of chosen) {
      records.push({ model: "users.membership", pk: uuid(), fields: { user, org: orgIds[org], active: next() < 0.8 } });
    }
  }
  for (let i = 0; i < nullMemberships; i++) {
    const fields = i % 2 === 0 ? { user: null, org: orgIds[0], active: true } : { user: 1, org: null, active: false };
    records.push({ model: "users.membership", pk: uuid(), fields });
  }
  return records;
}
