// One ChatClient per signed-in page, fed with session tokens made from the provider's
// access token, and its state as React state.

import { useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { useAuth } from "react-oidc-context";
import { setSignInRefusal } from "../auth/refusal";
import { createSession } from "../auth/session";
import { ChatClient } from "../chat/client";
import type { ChatState } from "../chat/state";

export function useChat(): { client: ChatClient; state: ChatState } {
  const auth = useAuth();
  // The client outlives renders; it reads the newest sign-in through this ref.
  const authRef = useRef(auth);
  authRef.current = auth;

  const client = useMemo(() => {
    const origin = window.location.origin;
    return new ChatClient({
      wsUrl: `${origin.replace(/^http/, "ws")}/ws`,
      apiBase: origin,
      getSessionToken: () =>
        createSession(async (renew) => {
          const current = authRef.current;
          if (renew || !current.user || current.user.expired) {
            const user = await current.signinSilent().catch(() => null);
            return user?.access_token ?? null;
          }
          return current.user.access_token;
        }),
      onSessionLost: (reason) => {
        setSignInRefusal(reason ?? null);
        void authRef.current.removeUser();
      },
    });
  }, []);

  useEffect(() => {
    client.start();
    return () => client.stop();
  }, [client]);

  const state = useSyncExternalStore(client.subscribe, client.getState);
  return { client, state };
}
