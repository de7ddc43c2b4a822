/** The origin's allauth social accounts, for the GitHub login: the interface (D1's is in ./d1/social-accounts.ts). */

/** The Django user a social account belongs to. */
export interface SocialUser {
  userId: number;
  userName: string;
}

export interface SocialAccounts {
  /**
   * The user of the `provider` account whose login is exactly `login` (case-sensitive, as
   * ps-web compares extra_data['login']); of several, the one with the highest id (ps-web
   * keeps the last it iterates). Undefined when none matches.
   */
  userByLogin(provider: string, login: string): Promise<SocialUser | undefined>;
}
