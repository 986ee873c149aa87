// Exchanges the identity provider's access token for a Banter session token
// (POST /api/session), as SPEC §3 describes.

import { SessionLost, type SessionToken } from "../chat/client";
import type { User } from "../chat/protocol";

export interface Session extends SessionToken {
  user: User;
}

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
    if (response.status !== 401) throw new Error(`session refused with status ${response.status}`);
  }
  throw new SessionLost("the identity provider's sign-in is no longer valid");
}
