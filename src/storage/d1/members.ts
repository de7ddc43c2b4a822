/**
 * Members in D1. Reads for login and membership status may be served by a read replica
 * (Sessions API): a few seconds of lag on a membership change is harmless next to a round
 * trip to the primary. Refresh and logout read the standing on the primary instead, in the
 * batch that decides the token (./revocations.ts).
 */
import { guard } from "../guard";
import type {
  BearerStanding,
  Credentials,
  Members,
  Standing,
  TokenSession,
  TokenStanding,
  UserRef,
  UserState,
} from "../members";

export interface StandingRow {
  user_id: number | null;
  user_active: number | null;
  member_active: number | null;
  user_revoked_at?: number | null; // users_user.sessions_revoked_at (unix ms)
  org_revoked_at?: number | null; // users_orgaccount.sessions_revoked_at (unix ms)
}

/**
 * Whether a token issued at `issuedAtMs` is ended by its user's or organization's
 * sessions_revoked_at: issued at or before it. (A token with whole seconds only counts from
 * the start of its second, so one issued in the same second as the end is refused with it.)
 */
export function endedByRevocation(
  row: { user_revoked_at?: number | null; org_revoked_at?: number | null } | null | undefined,
  issuedAtMs: number,
): boolean {
  return [row?.user_revoked_at, row?.org_revoked_at].some((at) => typeof at === "number" && issuedAtMs <= at);
}

/** SQL: whether the family bound as `family` ended in D1 (revoked as reuse or by an admin, or logged out). */
export const familyEnded = (family: string) =>
  `(EXISTS (SELECT 1 FROM token_family_revocation WHERE family = ${family})
    OR EXISTS (SELECT 1 FROM token_ledger WHERE family = ${family} AND reason = 'logout'))`;

/** Where the standing is read from, for a user id and an organization name given as these parameters. */
const standingFrom = (userId: string, orgName: string) => `
  FROM users_orgaccount AS o
  LEFT JOIN users_user AS u ON u.id = ${userId}
  LEFT JOIN users_membership AS m ON m.org_id = o.id AND m.user_id = u.id
  WHERE o.name = ${orgName}`;

// One statement, one round trip: the organization row decides existence, the left joins the rest.
export const STANDING = `SELECT u.id AS user_id, u.is_active AS user_active, m.active AS member_active,
    u.sessions_revoked_at AS user_revoked_at, o.sessions_revoked_at AS org_revoked_at
  ${standingFrom("?1", "?2")}`;

/**
 * The standing as a subquery of one row at most (user id ?3, organization name ?4), for a
 * statement that reads other state beside it; `org_id` is there when the organization is.
 */
export const STANDING_SUBQUERY = `(
  SELECT o.id AS org_id, u.id AS user_id, u.is_active AS user_active, m.active AS member_active,
    u.sessions_revoked_at AS user_revoked_at, o.sessions_revoked_at AS org_revoked_at
  ${standingFrom("?3", "?4")})`;

export function standingFromRow(row: StandingRow | null | undefined): Standing {
  if (row === null || row === undefined) return { kind: "no_organization" };
  if (row.user_id === null || row.member_active === null) return { kind: "not_member" };
  if (row.user_active !== 1) return { kind: "user_inactive" };
  return row.member_active === 1 ? { kind: "active_member" } : { kind: "inactive_member" };
}

interface BearerRow {
  family_ended: number;
  user_name: string | null;
  user_revoked_at: number | null;
  token_org_revoked_at: number | null;
  user_active: number | null;
  org_id: number | null;
  member_active: number | null;
}

// One row always: the user and the organization are looked up independently of each other.
export const BEARER_STANDING = `SELECT u.username AS user_name, u.is_active AS user_active, o.id AS org_id,
    m.active AS member_active, u.sessions_revoked_at AS user_revoked_at,
    (SELECT sessions_revoked_at FROM users_orgaccount WHERE name = ?3) AS token_org_revoked_at,
    ${familyEnded("?4")} AS family_ended
  FROM (SELECT ?1 AS user_id, ?2 AS org_name) AS p
  LEFT JOIN users_user AS u ON u.id = p.user_id
  LEFT JOIN users_orgaccount AS o ON o.name = p.org_name
  LEFT JOIN users_membership AS m ON m.org_id = o.id AND m.user_id = u.id`;

// One row always (the family's end is read whether or not the organization exists).
export const TOKEN_STANDING = `SELECT s.*, ${familyEnded("?3")} AS family_ended
  FROM (SELECT 1) LEFT JOIN (
    SELECT o.id AS org_id, u.id AS user_id, u.is_active AS user_active, m.active AS member_active,
      u.sessions_revoked_at AS user_revoked_at, o.sessions_revoked_at AS org_revoked_at
    ${standingFrom("?1", "?2")}) AS s ON TRUE`;

/**
 * The user's id a simplejwt token names (?id its primary key, else NULL; ?key its synced
 * USER_ID_FIELD value, else NULL), as an SQL expression: either way one index lookup.
 */
export const userIdByRef = (id: string, key: string) =>
  `coalesce(${id}, (SELECT id FROM users_user WHERE simplejwt_id = ${key}))`;

/** A row's user (user_id and user_active, NULL when no user matched) as a UserState. */
export function userStateOf(row: { user_id: number | null; user_active: number | null } | null | undefined): UserState {
  if (row?.user_id == null) return "missing";
  return row.user_active === 1 ? "active" : "inactive";
}

/** A UserRef as the two parameters userIdByRef takes. */
export function refParams(user: UserRef | undefined): [number | null, string | null] {
  if (user === undefined) return [null, null];
  return "id" in user ? [user.id, null] : [null, user.key];
}

// One row always: the user by id or synced key (none: nulls), the family's end beside it.
export const USER_SESSION = `SELECT u.id AS user_id, u.is_active AS user_active, u.sessions_revoked_at AS user_revoked_at,
    ${familyEnded("?2")} AS family_ended
  FROM (SELECT 1) LEFT JOIN users_user AS u ON u.id = ${userIdByRef("?1", "?3")}`;

export function bearerStandingFromRow(row: BearerRow | null): BearerStanding {
  if (row === null || row.user_name === null) return { kind: "no_user" };
  if (row.user_active !== 1) return { kind: "user_inactive" };
  if (row.org_id === null) return { kind: "no_organization" };
  if (row.member_active === null) return { kind: "not_member", userName: row.user_name };
  return { kind: "member", userName: row.user_name, active: row.member_active === 1 };
}

export class D1Members implements Members {
  /**
   * `reader` gives the database to read from, a Sessions API session where replicas are
   * wanted (made on first use: a request that never reads here never opens one); `writer`
   * is the database itself (the primary).
   */
  constructor(
    private readonly reader: () => D1Database | D1DatabaseSession,
    private readonly writer: D1Database,
  ) {}

  standing(userId: number, orgName: string): Promise<Standing> {
    return guard("members.standing", async () =>
      standingFromRow(await this.reader().prepare(STANDING).bind(userId, orgName).first<StandingRow>()),
    );
  }

  bearerStanding(
    userId: number,
    orgName: string,
    tokenOrgName: string,
    session: TokenSession,
  ): Promise<BearerStanding & { sessionsRevoked: boolean }> {
    return guard("members.bearerStanding", async () => {
      const row = await this.reader()
        .prepare(BEARER_STANDING)
        .bind(userId, orgName, tokenOrgName, session.family ?? null)
        .first<BearerRow>();
      const sessionsRevoked =
        row?.family_ended === 1 ||
        endedByRevocation(
          { user_revoked_at: row?.user_revoked_at, org_revoked_at: row?.token_org_revoked_at },
          session.issuedAtMs,
        );
      return { ...bearerStandingFromRow(row), sessionsRevoked };
    });
  }

  userSession(
    user: UserRef,
    session: TokenSession,
  ): Promise<{ user: UserState; userId: number | undefined; sessionsRevoked: boolean }> {
    return guard("members.userSession", async () => {
      const [id, key] = refParams(user);
      const row = await this.reader()
        .prepare(USER_SESSION)
        .bind(id, session.family ?? null, key)
        .first<{
          user_id: number | null;
          user_active: number | null;
          user_revoked_at: number | null;
          family_ended: number;
        }>();
      return {
        user: userStateOf(row),
        userId: row?.user_id ?? undefined,
        sessionsRevoked: row?.family_ended === 1 || endedByRevocation(row, session.issuedAtMs),
      };
    });
  }

  tokenStanding(userId: number, orgName: string, session: TokenSession): Promise<TokenStanding> {
    return guard("members.standing", async () => {
      const row = await this.reader()
        .prepare(TOKEN_STANDING)
        .bind(userId, orgName, session.family ?? null)
        .first<StandingRow & { org_id: number | null; family_ended: number }>();
      return {
        standing: row?.org_id == null ? { kind: "no_organization" } : standingFromRow(row),
        sessionsRevoked: row?.family_ended === 1 || endedByRevocation(row, session.issuedAtMs),
      };
    });
  }

  credentials(userName: string): Promise<Credentials | undefined> {
    return guard("members.credentials", async () => {
      const row = await this.reader()
        .prepare(
          "SELECT id, username, password, is_active, simplejwt_id, claims, origin_key FROM users_user WHERE username = ?1",
        )
        .bind(userName)
        .first<{
          id: number;
          username: string;
          password: string | null;
          is_active: number;
          simplejwt_id: string | null;
          claims: string | null;
          origin_key: string | null;
        }>();
      if (row === null) return undefined;
      return {
        userId: row.id,
        userName: row.username,
        passwordHash: row.password,
        userActive: row.is_active === 1,
        simplejwtId: row.simplejwt_id,
        claims: row.claims,
        uuidKeyed: row.origin_key !== null,
      };
    });
  }

  setPasswordHash(userId: number, oldHash: string, newHash: string): Promise<void> {
    // Conditional on the old hash, so a password changed meanwhile is never overwritten.
    return guard("members.setPasswordHash", async () => {
      await this.writer
        .prepare("UPDATE users_user SET password = ?3 WHERE id = ?1 AND password = ?2")
        .bind(userId, oldHash, newHash)
        .run();
    });
  }
}
