/**
 * Where the sync route hands the users whose sessions a delivery ended (sessions_revoked_at
 * set in D1), for the KV blacklist the token routes consult first. A no-op until the
 * blacklist's publisher (issue 17) is wired here: D1 already refuses their tokens.
 */
import type { Context } from "hono";
import type { AppEnv } from "../types";

export function publishEndedSessions(_c: Context<AppEnv>, _userIds: readonly number[], _revokedAt: number): void {}
