/** The membership checks every route shares, in the contract's order. */
import { fail } from "../errors";
import type { Standing } from "../storage/members";

/**
 * Throws the contract's 403 unless the user is a member (the organization, then the
 * membership, then the account); for a member, whether the membership is active, as the
 * membership-status body says it.
 */
export function requireMember(standing: Standing, userName: string, orgName: string): { active: boolean } {
  switch (standing.kind) {
    case "no_organization":
      throw fail({ kind: "unknown_organization", org: orgName });
    case "not_member":
      throw fail({ kind: "not_member", user: userName, org: orgName });
    case "user_inactive":
      throw fail({ kind: "user_inactive" });
    case "inactive_member":
      return { active: false };
    case "active_member":
      return { active: true };
  }
}
