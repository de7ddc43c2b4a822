/**
 * The blacklist in D1, decided in one batch on the primary (one transaction, one round
 * trip). `token_ledger`'s primary key on jti makes consumption exactly-once, whatever the
 * concurrency or location: of concurrent conditional inserts of one jti, one changes a row.
 *
 * The batch reads first (one statement: the token's ledger row, its successor's, its
 * family's revocation, the member's standing and sessions_revoked_at), then writes: the
 * family revocation if the token comes back as reuse, then the consuming insert, itself
 * conditional on everything the reads check, so that the reads tell every loser why it
 * lost and nothing is consumed that the route would not answer with a pair.
 *
 * Reuse is told by the successor: a rotated token's successor id is deterministic, so the
 * batch looks it up in the ledger. Unused, nobody has gone on with the chain: the replay is
 * a lost response or a lost race, refused and ending nothing. Used, the chain moved on
 * while this token came back: one side of it is a thief, and the family ends
 * (docs/exactly-once.md, the replay table).
 *
 * KV is no part of this decision (it cannot decide exactly-once): ended sessions are
 * written to it after the response, for the access-token checks (../ended-sessions.ts).
 */
import { guard } from "../guard";
import type {
  Attempt,
  PresentedToken,
  PresentedUserToken,
  Revocation,
  Revocations,
  UserAttempt,
  UserVerdict,
  Verdict,
} from "../revocations";
import {
  endedByRevocation,
  refParams,
  STANDING,
  STANDING_SUBQUERY,
  type StandingRow,
  standingFromRow,
  userIdByRef,
  userStateOf,
} from "./members";

const PURGE_SLICE_ROWS = 5000;
const PURGE_SLICES = 20; // 100000 rows an hour at most; the next run takes the rest

interface LedgerRow {
  reason: "rotated" | "logout";
  used_at: number; // unix milliseconds
}

interface StateRow extends StandingRow {
  org_id: number | null; // null: no such organization
  family_revoked: number | null;
  successor_used: number | null;
  reason: LedgerRow["reason"] | null;
  used_at: number | null;
}

// Everything the route decides on, in one row: the token's ledger row, its successor's,
// its family's revocation, and the member's standing with the sessions_revoked_at of user
// and organization (?3 user id, ?4 organization name, ?5 the successor's jti).
const STATE = `
  SELECT
    (SELECT 1 FROM token_family_revocation WHERE family = ?2) AS family_revoked,
    (SELECT 1 FROM token_ledger WHERE jti = ?5) AS successor_used,
    l.reason, l.used_at,
    s.org_id, s.user_id, s.user_active, s.member_active, s.user_revoked_at, s.org_revoked_at
  FROM (SELECT 1)
  LEFT JOIN token_ledger AS l ON l.jti = ?1
  LEFT JOIN ${STANDING_SUBQUERY} AS s ON TRUE`;

// A rotated token presented again whose successor (?5) was used too, or (?6 = 1) any
// rotated token: revoke its family (RFC 9700 4.14.2).
const REVOKE_IF_REUSED = `
  INSERT INTO token_family_revocation (family, revoked_at, expires_at)
  SELECT ?2, ?3, ?4
  WHERE EXISTS (SELECT 1 FROM token_ledger WHERE jti = ?1 AND reason = 'rotated')
    AND (?6 = 1 OR EXISTS (SELECT 1 FROM token_ledger WHERE jti = ?5))
  ON CONFLICT (family) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)
  WHERE excluded.expires_at > expires_at`;

// Consume unless the jti is there already, the family is revoked, the user is not an
// active member of an existing organization (then the token stays usable), or the token
// was issued (?7, unix ms) at or before its user's or organization's sessions were revoked.
const CONSUME = `
  INSERT INTO token_ledger (jti, family, reason, used_at, expires_at)
  SELECT ?1, ?2, 'rotated', ?3, ?4
  WHERE NOT EXISTS (SELECT 1 FROM token_family_revocation WHERE family = ?2)
    AND EXISTS (
      SELECT 1 FROM users_orgaccount AS o
      JOIN users_membership AS m ON m.org_id = o.id AND m.user_id = ?5 AND m.active = 1
      JOIN users_user AS u ON u.id = ?5 AND u.is_active = 1
      WHERE o.name = ?6
        AND coalesce(u.sessions_revoked_at, -1) < ?7 AND coalesce(o.sessions_revoked_at, -1) < ?7)
  ON CONFLICT (jti) DO NOTHING`;

// Logout blacklists whatever the membership.
const LOG_OUT = `
  INSERT INTO token_ledger (jti, family, reason, used_at, expires_at)
  SELECT ?1, ?2, 'logout', ?3, ?4
  WHERE NOT EXISTS (SELECT 1 FROM token_family_revocation WHERE family = ?2)
  ON CONFLICT (jti) DO NOTHING`;

const LEDGER_ROW = "SELECT reason, used_at FROM token_ledger WHERE jti = ?1";

// simplejwt's tokens carry no organization: the user's own row decides (?3 user id, ?5 the
// synced USER_ID_FIELD value, NULL for none: userIdByRef; ?4 the successor's jti).
const USER_STATE = `
  SELECT
    (SELECT 1 FROM token_family_revocation WHERE family = ?2) AS family_revoked,
    (SELECT 1 FROM token_ledger WHERE jti = ?4) AS successor_used,
    l.reason, l.used_at,
    u.id AS user_id, u.is_active AS user_active, u.sessions_revoked_at AS user_revoked_at
  FROM (SELECT 1)
  LEFT JOIN token_ledger AS l ON l.jti = ?1
  LEFT JOIN users_user AS u ON u.id = ${userIdByRef("?3", "?5")}`;

// Consume a simplejwt refresh token unless the jti is there already, the family is revoked,
// the token was issued (?6, unix ms) at or before its user's (?5 id, ?8 synced key: userIdByRef)
// sessions_revoked_at, or (?7 = 1, simplejwt 5.4+) the user is missing or inactive.
const CONSUME_USER = `
  INSERT INTO token_ledger (jti, family, reason, used_at, expires_at)
  SELECT ?1, ?2, 'rotated', ?3, ?4
  WHERE NOT EXISTS (SELECT 1 FROM token_family_revocation WHERE family = ?2)
    AND NOT EXISTS (SELECT 1 FROM users_user WHERE id = ${userIdByRef("?5", "?8")} AND coalesce(sessions_revoked_at, -1) >= ?6)
    AND (?7 = 0 OR EXISTS (SELECT 1 FROM users_user WHERE id = ${userIdByRef("?5", "?8")} AND is_active = 1))
  ON CONFLICT (jti) DO NOTHING`;

interface UserStateRow {
  family_revoked: number | null;
  successor_used: number | null;
  reason: LedgerRow["reason"] | null;
  used_at: number | null;
  user_id: number | null;
  user_active: number | null;
  user_revoked_at: number | null;
}

/** USER_STATE's ?3 to ?5: the user's id, the successor's jti, the user's synced key. */
function userStateParams(token: PresentedUserToken): [number | null, string, string | null] {
  const [id, key] = refParams(token.user);
  return [id, token.successorJti, key];
}

function userVerdictOf(
  row: UserStateRow | undefined,
  token: PresentedUserToken,
  won: boolean,
  revokedFamily: boolean,
): UserVerdict {
  return {
    won,
    revocation: revocationOf(
      row === undefined ? undefined : { ...row, org_id: null, member_active: null, org_revoked_at: null },
      token.issuedAtMs,
    ),
    revokedFamily,
    successorUsed: row?.successor_used === 1,
    user: userStateOf(row),
  };
}

function revocationOf(row: StateRow | undefined, issuedAtMs: number): Revocation | undefined {
  if (row?.family_revoked) return { kind: "family_revoked" };
  if (endedByRevocation(row, issuedAtMs)) return { kind: "sessions_revoked" };
  if (row?.reason === "rotated" && row.used_at !== null) return { kind: "rotated", usedAtMs: row.used_at };
  if (row?.reason === "logout") return { kind: "logged_out" };
  return undefined;
}

/** The family's revocation when the presented token comes back as reuse (REVOKE_IF_REUSED). */
function revokeIfReused(
  db: D1Database,
  token: { jti: string; family: string; successorJti: string },
  attempt: Attempt,
): D1PreparedStatement {
  return db
    .prepare(REVOKE_IF_REUSED)
    .bind(
      token.jti,
      token.family,
      attempt.usedAtMs,
      attempt.familyExpiresAt,
      token.successorJti,
      attempt.reuse === "always" ? 1 : 0,
    );
}

export class D1Revocations implements Revocations {
  constructor(private readonly primary: D1Database) {}

  redeem(token: PresentedToken, attempt: Attempt): Promise<Verdict> {
    return this.decide(token, attempt, "rotated");
  }

  logout(token: PresentedToken, attempt: Attempt): Promise<Verdict> {
    return this.decide(token, attempt, "logout");
  }

  private async decide(token: PresentedToken, attempt: Attempt, reason: LedgerRow["reason"]): Promise<Verdict> {
    const db = this.primary;
    const write =
      reason === "rotated"
        ? db
            .prepare(CONSUME)
            .bind(
              token.jti,
              token.family,
              attempt.usedAtMs,
              token.expiresAt,
              token.userId,
              token.orgName,
              token.issuedAtMs,
            )
        : db.prepare(LOG_OUT).bind(token.jti, token.family, attempt.usedAtMs, token.expiresAt);
    const verdict = await this.inOneBatch(
      reason,
      [
        db.prepare(STATE).bind(token.jti, token.family, token.userId, token.orgName, token.successorJti),
        revokeIfReused(db, token, attempt),
        write,
      ],
      (state: StateRow | undefined, won, revokedFamily): Verdict => ({
        won,
        revocation: revocationOf(state, token.issuedAtMs),
        revokedFamily,
        successorUsed: state?.successor_used === 1,
        standing: state === undefined || state.org_id === null ? { kind: "no_organization" } : standingFromRow(state),
      }),
      () => this.committed(token, attempt, reason),
    );
    if (
      !verdict.won &&
      verdict.revocation === undefined &&
      (reason === "logout" || verdict.standing.kind === "active_member")
    ) {
      throw new Error("ledger insert changed nothing and found nothing");
    }
    return verdict;
  }

  /** Our own write, found in the ledger (same jti, reason and time), as the verdict of a win. */
  private async committed(
    token: PresentedToken,
    attempt: Attempt,
    reason: LedgerRow["reason"],
  ): Promise<Verdict | undefined> {
    const found = await this.ownWrite(
      token.jti,
      attempt,
      reason,
      this.primary.prepare(STANDING).bind(token.userId, token.orgName),
    );
    if (found === undefined) return undefined;
    // The insert was conditional on an active membership: that is what it was when it won.
    return {
      won: true,
      revocation: undefined,
      revokedFamily: false,
      successorUsed: false,
      standing:
        reason === "rotated" ? { kind: "active_member" } : standingFromRow(found.row as StandingRow | undefined),
    };
  }

  /**
   * The read, the family's revocation if the token is reused, and the write, in one batch (one
   * transaction); the verdict from the read's row and what the two writes changed. A batch can
   * commit and still fail on the way back (a timeout, a lost connection): answering 503 then
   * would strand the client, whose retry would look like reuse; `recover` finds our own write.
   */
  private async inOneBatch<Row, V>(
    reason: LedgerRow["reason"],
    statements: [read: D1PreparedStatement, revoke: D1PreparedStatement, write: D1PreparedStatement],
    verdictOf: (row: Row | undefined, won: boolean, revokedFamily: boolean) => V,
    recover: () => Promise<V | undefined>,
  ): Promise<V> {
    let results: D1Result[];
    try {
      results = await this.primary.batch(statements);
    } catch (error) {
      const recovered = await recover();
      if (recovered !== undefined) return recovered;
      return guard(`revocations.${reason}`, () => Promise.reject(error));
    }
    const [read, revoke, insert] = results;
    return verdictOf(read?.results[0] as Row | undefined, insert?.meta.changes === 1, (revoke?.meta.changes ?? 0) > 0);
  }

  /**
   * Whether the ledger holds our own write of `jti` (same reason and time: a same-millisecond
   * sibling would have signed the identical pair, so answering it is no second pair), with the
   * first row of `also`, read in the same batch; undefined when not, or unreadable.
   */
  private async ownWrite(
    jti: string,
    attempt: Attempt,
    reason: LedgerRow["reason"],
    also: D1PreparedStatement,
  ): Promise<{ row: unknown } | undefined> {
    try {
      const [ledger, other] = await this.primary.batch([this.primary.prepare(LEDGER_ROW).bind(jti), also]);
      const row = ledger?.results[0] as LedgerRow | undefined;
      if (row === undefined || row.reason !== reason || row.used_at !== attempt.usedAtMs) return undefined;
      return { row: other?.results[0] };
    } catch {
      return undefined;
    }
  }

  userTokenState(token: PresentedUserToken): Promise<UserVerdict> {
    return guard("revocations.userTokenState", async () => {
      const row = await this.primary
        .prepare(USER_STATE)
        .bind(token.jti, token.family, ...userStateParams(token))
        .first<UserStateRow>();
      return userVerdictOf(row ?? undefined, token, false, false);
    });
  }

  rotateUserToken(token: PresentedUserToken, attempt: UserAttempt): Promise<UserVerdict> {
    const [userId, userKey] = refParams(token.user);
    const write = this.primary
      .prepare(CONSUME_USER)
      .bind(
        token.jti,
        token.family,
        attempt.usedAtMs,
        token.expiresAt,
        userId,
        token.issuedAtMs,
        attempt.requireActiveUser ? 1 : 0,
        userKey,
      );
    return this.decideUser(token, attempt, "rotated", write);
  }

  logoutUserToken(token: PresentedUserToken, attempt: Attempt): Promise<UserVerdict> {
    const write = this.primary.prepare(LOG_OUT).bind(token.jti, token.family, attempt.usedAtMs, token.expiresAt);
    return this.decideUser(token, attempt, "logout", write);
  }

  inLedger(jti: string): Promise<boolean> {
    return guard("revocations.inLedger", async () => {
      return (await this.primary.prepare(LEDGER_ROW).bind(jti).first()) !== null;
    });
  }

  /** As `decide`, over the user's row instead of a membership. */
  private decideUser(
    token: PresentedUserToken,
    attempt: Attempt,
    reason: LedgerRow["reason"],
    write: D1PreparedStatement,
  ): Promise<UserVerdict> {
    const db = this.primary;
    return this.inOneBatch(
      reason,
      [
        db.prepare(USER_STATE).bind(token.jti, token.family, ...userStateParams(token)),
        revokeIfReused(db, token, attempt),
        write,
      ],
      (row: UserStateRow | undefined, won, revokedFamily) => userVerdictOf(row, token, won, revokedFamily),
      async () => {
        const user = db
          .prepare(
            `SELECT id AS user_id, is_active AS user_active FROM users_user WHERE id = ${userIdByRef("?1", "?2")}`,
          )
          .bind(...refParams(token.user));
        const found = await this.ownWrite(token.jti, attempt, reason, user);
        if (found === undefined) return undefined;
        return {
          won: true,
          revocation: undefined,
          revokedFamily: false,
          successorUsed: false,
          user: userStateOf(found.row as UserStateRow | undefined),
        };
      },
    );
  }

  async purgeExpired(nowMs: number): Promise<{ tokens: number; families: number }> {
    const nowSeconds = Math.floor(nowMs / 1000);
    const removed = { tokens: 0, families: 0 };
    // In slices, so no single statement runs into D1's per-query limits; bounded per run.
    for (let slice = 0; slice < PURGE_SLICES; slice++) {
      const [tokens, families] = await guard("revocations.purgeExpired", () =>
        this.primary.batch([
          this.primary
            .prepare(`DELETE FROM token_ledger WHERE jti IN
                        (SELECT jti FROM token_ledger WHERE expires_at < ?1 LIMIT ${PURGE_SLICE_ROWS})`)
            .bind(nowSeconds),
          this.primary
            .prepare(`DELETE FROM token_family_revocation WHERE family IN
                        (SELECT family FROM token_family_revocation WHERE expires_at < ?1 LIMIT ${PURGE_SLICE_ROWS})`)
            .bind(nowSeconds),
        ]),
      );
      removed.tokens += tokens?.meta.changes ?? 0;
      removed.families += families?.meta.changes ?? 0;
      if ((tokens?.meta.changes ?? 0) < PURGE_SLICE_ROWS && (families?.meta.changes ?? 0) < PURGE_SLICE_ROWS) break;
    }
    return removed;
  }
}
