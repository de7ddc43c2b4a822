import { fail } from "../errors";
import type { Standing } from "../storage/members";

/**
 * The membership checks every route shares, in the contract's order: the organization,
 * the membership, the account. Throws unless a member; answers whether the membership is active.
 */
export function memberIsActive(standing: Standing, userName: string, orgName: string): boolean {
  switch (standing.kind) {
    case "no_organization":
      throw fail({ kind: "unknown_organization", org: orgName });
    case "not_member":
      throw fail({ kind: "not_member", user: userName, org: orgName });
    case "user_inactive":
      throw fail({ kind: "user_inactive" });
    case "inactive_member":
      return false;
    case "active_member":
      return true;
  }
}
