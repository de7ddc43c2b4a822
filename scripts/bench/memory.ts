/**
 * Stores that answer from memory at once, for measuring what is left without storage: the
 * in-process CPU bench, and `npm run bench -- --memory-stores` (the Worker under load with
 * storage taken out). Every member is active; a jti is consumed once, then reads as rotated.
 */
import type { Stores } from "../../src/storage";
import type { Members } from "../../src/storage/members";
import type { Revocations, UserVerdict, Verdict } from "../../src/storage/revocations";

export function memoryStores(): Stores {
  const ledger = new Map<string, number>();
  const members: Members = {
    standing: async () => ({ kind: "active_member" }),
    bearerStanding: async () => ({ kind: "member", userName: "bench", active: true, sessionsRevoked: false }),
    tokenStanding: async () => ({ standing: { kind: "active_member" }, sessionsRevoked: false }),
    userSession: async () => ({ user: "active", userId: 1, sessionsRevoked: false }),
    credentials: async () => undefined,
    setPasswordHash: async () => undefined,
  };
  const decide = async (jti: string, usedAtMs: number): Promise<Verdict> => {
    const used = ledger.get(jti);
    if (used !== undefined) {
      return {
        won: false,
        revocation: { kind: "rotated", usedAtMs: used },
        revokedFamily: false,
        successorUsed: false,
        standing: { kind: "active_member" },
      };
    }
    ledger.set(jti, usedAtMs);
    return {
      won: true,
      revocation: undefined,
      revokedFamily: false,
      successorUsed: false,
      standing: { kind: "active_member" },
    };
  };
  const decideUser = async (jti: string, usedAtMs: number | undefined): Promise<UserVerdict> => {
    const used = ledger.get(jti);
    if (usedAtMs !== undefined && used === undefined) ledger.set(jti, usedAtMs);
    return {
      won: usedAtMs !== undefined && used === undefined,
      revocation: used === undefined ? undefined : { kind: "rotated", usedAtMs: used },
      revokedFamily: false,
      successorUsed: false,
      user: "active",
    };
  };
  const revocations: Revocations = {
    redeem: (token, attempt) => decide(token.jti, attempt.usedAtMs),
    logout: (token, attempt) => decide(token.jti, attempt.usedAtMs),
    userTokenState: (token) => decideUser(token.jti, undefined),
    rotateUserToken: (token, attempt) => decideUser(token.jti, attempt.usedAtMs),
    logoutUserToken: (token, attempt) => decideUser(token.jti, attempt.usedAtMs),
    inLedger: async (jti) => ledger.has(jti),
    purgeExpired: async () => ({ tokens: 0, families: 0 }),
  };
  return {
    members,
    revocations,
    attempts: {
      take: async () => [],
      settle: async () => undefined,
      purge: async () => 0,
    },
    probe: { check: async () => ({ d1: true, kv: true }) },
    socialAccounts: { userByUid: async () => undefined },
    endedSessions: {
      ended: async () => false,
      endFamily: async () => undefined,
      endUsers: async () => undefined,
      endOrganization: async () => undefined,
    },
    sync: { apply: async () => ({ kind: "applied", applied: 0, stale: 0, endedSessions: [] }) },
  };
}
