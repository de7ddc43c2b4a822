/** Social accounts in D1 (migration 0007), read through the request's replica session as login's other reads. */
import { guard } from "../guard";
import type { SocialAccounts, SocialUser } from "../social-accounts";

// SQLite's = on TEXT is binary: case-sensitive, as Python's ==.
const USER_BY_LOGIN = `SELECT s.user_id AS user_id, u.username AS user_name
  FROM socialaccount_socialaccount AS s JOIN users_user AS u ON u.id = s.user_id
  WHERE s.provider = ?1 AND s.login = ?2
  ORDER BY s.id DESC LIMIT 1`;

export class D1SocialAccounts implements SocialAccounts {
  constructor(private readonly reader: () => D1Database | D1DatabaseSession) {}

  userByLogin(provider: string, login: string): Promise<SocialUser | undefined> {
    return guard("social_accounts.user_by_login", async () => {
      const row = await this.reader()
        .prepare(USER_BY_LOGIN)
        .bind(provider, login)
        .first<{ user_id: number; user_name: string }>();
      return row === null ? undefined : { userId: row.user_id, userName: row.user_name };
    });
  }
}
