// Accounts of the development provider: there is no user store. Any valid
// email signs in, and the account id (the token `sub`) is that email, trimmed
// and lowercased, so the same person gets the same `sub` every time.

// The HTML "valid e-mail address" rule, so the server accepts exactly what
// the browser's <input type="email"> accepts.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** Returns the account id for a typed email, or undefined when it is not an email. */
export function accountIdFor(input) {
  const email = String(input ?? '').trim().toLowerCase();
  if (email.length === 0 || email.length > 254 || !EMAIL.test(email)) {
    return undefined;
  }
  return email;
}

/**
 * Whether the account's email counts as verified: every one does, except addresses whose
 * local part ends in `+unverified` (eve+unverified@example.com), which stand for someone
 * who never opened the provider's confirmation link (Banter refuses their sign-in).
 */
export function emailVerified(accountId) {
  return !accountId.split('@')[0].endsWith('+unverified');
}

/** Claims of an account, as Auth0 gives them for a database user. */
export function claimsFor(accountId) {
  return {
    sub: accountId,
    email: accountId,
    email_verified: emailVerified(accountId),
    name: accountId,
    nickname: accountId.split('@')[0],
  };
}

// oidc-provider's findAccount: every id that is a valid email is an account.
export async function findAccount(_ctx, sub) {
  if (accountIdFor(sub) !== sub) {
    return undefined;
  }
  return {
    accountId: sub,
    async claims() {
      return claimsFor(sub);
    },
  };
}
