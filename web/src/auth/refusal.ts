// Why the last sign-in was refused (a 403 from POST /api/session, e.g. an unverified
// email), kept for the sign-in screen that follows: the chat is gone by then.

import { useSyncExternalStore } from "react";

let reason: string | null = null;
const listeners = new Set<() => void>();

export function setSignInRefusal(next: string | null): void {
  reason = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The reason of the last refused sign-in, or null. */
export function useSignInRefusal(): string | null {
  return useSyncExternalStore(subscribe, () => reason);
}
