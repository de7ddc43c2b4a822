/** The origin's allauth social accounts, for the GitHub login: the interface (D1's is in ./d1/social-accounts.ts). */

/** The Django user a social account belongs to. */
export interface SocialUser {
  userId: number;
  userName: string;
}

export interface SocialAccounts {
  /**
   * The user of the `provider` account whose uid is exactly `uid` (allauth's: for GitHub, the
   * account's numeric id in decimal), at most one (UNIQUE (provider, uid)). Undefined when
   * none matches. Not by login, as ps-web matches: a login is a name its owner can give up.
   */
  userByUid(provider: string, uid: string): Promise<SocialUser | undefined>;
}
