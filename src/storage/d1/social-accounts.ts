/** Social accounts in D1 (migration 0007), read through the request's replica session as login's other reads. */
import { guard } from "../guard";
import type { SocialAccounts, SocialUser } from "../social-accounts";

// SQLite's = on TEXT is binary, as Python's ==; UNIQUE (provider, uid) is the index and makes it one row.
const USER_BY_UID = `SELECT s.user_id AS user_id, u.username AS user_name
  FROM socialaccount_socialaccount AS s JOIN users_user AS u ON u.id = s.user_id
  WHERE s.provider = ?1 AND s.uid = ?2`;

export class D1SocialAccounts implements SocialAccounts {
  constructor(private readonly reader: () => D1Database | D1DatabaseSession) {}

  userByUid(provider: string, uid: string): Promise<SocialUser | undefined> {
    return guard("social_accounts.user_by_uid", async () => {
      const row = await this.reader()
        .prepare(USER_BY_UID)
        .bind(provider, uid)
        .first<{ user_id: number; user_name: string }>();
      return row === null ? undefined : { userId: row.user_id, userName: row.user_name };
    });
  }
}
