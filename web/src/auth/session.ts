// Exchanges the identity provider's access token for a Banter session token
// (POST /api/session), as SPEC §3 describes.

import { SessionLost, SignInRefused, type SessionToken } from "../chat/client";
import type { ErrorCode, User } from "../chat/protocol";

export interface Session extends SessionToken {
  user: User;
}

/** What the sign-in screen says when the server refuses a sign-in with `code` (HTTP 403). */
export const REFUSALS: Partial<Record<ErrorCode, string>> = {
  email_unverified:
    "Your email address is not verified yet. Open the link your identity provider emailed you, then sign in again.",
};

/**
 * `provider` returns the current provider access token, renewing it silently when
 * `renew` is set (after the server refused the current one).
 */
export async function createSession(
  provider: (renew: boolean) => Promise<string | null>,
): Promise<Session> {
  for (const renew of [false, true]) {
    const accessToken = await provider(renew);
    if (!accessToken) break;
    const response = await fetch("/api/session", {
      method: "POST",
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    if (response.status === 201 || response.ok) return (await response.json()) as Session;
    if (response.status === 403) {
      // A refusal of the person's sign-in itself (a new token would not change it).
      const body = (await response.json().catch(() => null)) as { error?: { code?: ErrorCode; message?: string } } | null;
      const code = body?.error?.code;
      const reason = (code && REFUSALS[code]) ?? body?.error?.message ?? "The server refused this sign-in.";
      throw new SignInRefused(reason);
    }
    if (response.status !== 401) throw new Error(`session refused with status ${response.status}`);
  }
  throw new SessionLost("the identity provider's sign-in is no longer valid");
}
