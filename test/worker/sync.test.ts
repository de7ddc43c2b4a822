/** POST /api/org_token/sync/: every row of docs/sync.md's answer table, and the version rules. */
import { describe, expect, it } from "vitest";
import { app, env, manualClock, unique } from "../support/harness";
import {
  type DeliverOptions,
  deleted,
  deliver,
  deliveryId,
  membershipRecord,
  nextVersion,
  orgRecord,
  SYNC_SECRET,
  signatureOf,
  userRecord,
} from "../support/sync";

const clock = manualClock();
const worker = app({ clock });
let nextUser = 50_000;
const newUserId = () => ++nextUser;

const send = (body: unknown, options?: DeliverOptions) => deliver(worker, clock(), body, options);

async function user(id: number) {
  return env.DB.prepare("SELECT id, username, password, is_active, sessions_revoked_at FROM users_user WHERE id = ?1")
    .bind(id)
    .first();
}
async function org(uuid: string) {
  return env.DB.prepare("SELECT id, name FROM users_orgaccount WHERE django_uuid = ?1").bind(uuid).first<{
    id: number;
    name: string;
  }>();
}
async function membership(uuid: string) {
  return env.DB.prepare("SELECT user_id, org_id, active FROM users_membership WHERE django_uuid = ?1")
    .bind(uuid)
    .first();
}

/** A user, an organization and an active membership, delivered; their origin keys. */
async function world() {
  const userId = newUserId();
  const orgUuid = crypto.randomUUID();
  const memberUuid = crypto.randomUUID();
  const userName = unique("u");
  const orgName = unique("Org");
  const response = await send({
    records: [
      userRecord(userId, { username: userName }),
      orgRecord(orgUuid, orgName),
      membershipRecord(memberUuid, { user: userId, org: orgUuid, active: true }),
    ],
  });
  expect(response.status).toBe(200);
  return { userId, orgUuid, memberUuid, userName, orgName };
}

describe("sync: 200", () => {
  it("applies users, organizations and memberships in one delivery", async () => {
    const userId = newUserId();
    const orgUuid = crypto.randomUUID();
    const memberUuid = crypto.randomUUID();
    const response = await send({
      records: [
        // Out of kind order on purpose: the membership comes first, its user and organization after.
        membershipRecord(memberUuid, { user: userId, org: orgUuid, active: true }),
        userRecord(userId, { username: "ceugarteblair", password: "pbkdf2_sha256$1$x$y", is_active: true }),
        orgRecord(orgUuid, "UofMDTest"),
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ applied: 3, stale: 0, duplicate: false });
    expect(await user(userId)).toMatchObject({
      username: "ceugarteblair",
      password: "pbkdf2_sha256$1$x$y",
      is_active: 1,
    });
    const o = await org(orgUuid);
    expect(o?.name).toBe("UofMDTest");
    expect(await membership(memberUuid)).toEqual({ user_id: userId, org_id: o!.id, active: 1 });
  });

  it("an empty delivery: 200 with nothing applied", async () => {
    const response = await send({ records: [] });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ applied: 0, stale: 0, duplicate: false });
  });

  it("a replayed id: 200 duplicate, and nothing changes", async () => {
    const w = await world();
    const id = deliveryId();
    const first = await send({ records: [userRecord(w.userId, { username: "first_name_x" })] }, { id });
    expect(await first.json()).toEqual({ applied: 1, stale: 0, duplicate: false });
    // The same id with another body (a higher version, even): still nothing.
    const again = await send({ records: [userRecord(w.userId, { username: "second_name_x" })] }, { id });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ applied: 0, stale: 0, duplicate: true });
    expect(await user(w.userId)).toMatchObject({ username: "first_name_x" });
  });
});
