// Where to sign in: the server's GET /api/config (SPEC §5), turned into the settings of
// the OpenID Connect client (authorization code + PKCE).

import { WebStorageStateStore } from "oidc-client-ts";
import type { AuthProviderProps } from "react-oidc-context";

export interface ServerConfig {
  issuer: string;
  client_id: string | null;
  audience: string;
}

export async function loadConfig(): Promise<ServerConfig> {
  const response = await fetch("/api/config");
  if (!response.ok) throw new Error(`GET /api/config answered ${response.status}`);
  return (await response.json()) as ServerConfig;
}

export function oidcSettings(config: ServerConfig): AuthProviderProps {
  const home = `${window.location.origin}/`;
  return {
    authority: config.issuer,
    client_id: config.client_id ?? "",
    redirect_uri: home,
    post_logout_redirect_uri: home,
    // offline_access: a refresh token renews the provider's access token without a
    // hidden iframe (Auth0: enable refresh-token rotation for the application).
    scope: "openid profile email offline_access",
    // Auth0 issues a JWT for the API only when asked for its audience.
    extraQueryParams: { audience: config.audience },
    // Every window of the browser shares one sign-in (signing out ends it for all).
    userStore: new WebStorageStateStore({ store: window.localStorage }),
    automaticSilentRenew: true,
    onSigninCallback: () => {
      // Drop ?code=&state= from the address once the sign-in is complete.
      window.history.replaceState({}, document.title, window.location.pathname);
    },
  };
}
