// Signed out: the sign-in screen. Signed in: the chat. Signing out anywhere signs out here.

import { useEffect } from "react";
import { useAuth } from "react-oidc-context";
import { useSignInRefusal } from "../auth/refusal";
import { onSignOutElsewhere } from "../auth/signOut";
import { ChatScreen } from "./ChatScreen";
import { SignIn } from "./SignIn";

export function App({ audience }: { audience: string }) {
  const auth = useAuth();
  const refusal = useSignInRefusal();

  useEffect(() => onSignOutElsewhere(() => void auth.removeUser()), [auth]);

  if (auth.isLoading || auth.activeNavigator) {
    return (
      <main className="splash" aria-busy="true">
        <h1>Banter</h1>
        <p>Signing in…</p>
      </main>
    );
  }
  if (!auth.isAuthenticated || !auth.user) {
    return <SignIn audience={audience} error={refusal ?? auth.error?.message} />;
  }
  return <ChatScreen />;
}
