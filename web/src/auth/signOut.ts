// Signing out in one window signs out every window of the browser: the window that signs
// out tells the others on a BroadcastChannel, and they drop the sign-in they share.

const CHANNEL = "banter-auth";

export function announceSignOut(): void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage({ type: "signed-out" });
  channel.close();
}

/** Calls `onSignedOut` when another window signs out; returns the unsubscribe. */
export function onSignOutElsewhere(onSignedOut: () => void): () => void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event: MessageEvent<{ type?: string }>) => {
    if (event.data?.type === "signed-out") onSignedOut();
  };
  return () => channel.close();
}
