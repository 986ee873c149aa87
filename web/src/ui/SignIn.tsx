// The signed-out screen: sign in or create an account, both at the identity provider.

import { useAuth } from "react-oidc-context";

export function SignIn({ audience, error }: { audience: string; error?: string }) {
  const auth = useAuth();
  return (
    <main className="splash">
      <h1>Banter</h1>
      <p>Chat with the people who are online now.</p>
      {error && (
        <p className="notice" role="alert">
          Signing in failed: {error}
        </p>
      )}
      <div className="actions">
        <button className="primary" onClick={() => void auth.signinRedirect()}>
          Sign in
        </button>
        <button
          onClick={() =>
            void auth.signinRedirect({ extraQueryParams: { audience, screen_hint: "signup" } })
          }
        >
          Create an account
        </button>
      </div>
    </main>
  );
}
