// The oidc-provider instance, configured to behave towards the Banter SPA and
// API the way Auth0 does in production: authorization code + PKCE for a
// public client, refresh tokens without iframes, RS256 JWT access tokens for
// the API audience, and sign-out without a confirmation page.

import Provider, { errors, interactionPolicy } from 'oidc-provider';

import { claimsFor, findAccount } from './accounts.js';
import { errorPage, logoutPage, signedOutPage } from './views.js';

const DAY = 24 * 60 * 60;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * DEVELOPMENT ONLY. True for http URLs on a loopback host with any port
 * (http://localhost:5173/callback, http://127.0.0.1:41234/). Banter's tests
 * run the server and web client on random ports, so exact registration is
 * impossible; a real provider must never accept redirects this loosely.
 */
export function isLoopbackUrl(value) {
  const url = URL.parse(String(value));
  return url !== null
    && url.protocol === 'http:'
    && LOOPBACK_HOSTS.has(url.hostname)
    && url.username === ''
    && url.password === ''
    && url.hash === '';
}

function isLoopbackOrigin(origin) {
  return typeof origin === 'string' && isLoopbackUrl(origin) && URL.parse(origin).origin === origin;
}

/**
 * CORS: the SPA calls the token, userinfo and revocation endpoints with
 * fetch from its own origin. Allowed: loopback http origins (DEVELOPMENT
 * ONLY, any port) and the origins of the registered redirect URIs.
 */
export function corsOriginCheck(redirectUris) {
  const registered = new Set(redirectUris.map((uri) => URL.parse(uri)?.origin).filter((o) => o && o !== 'null'));
  return (origin) => registered.has(origin) || isLoopbackOrigin(origin);
}

// prompt=create (OIDC "Initiating User Registration") and Auth0's
// screen_hint=signup both land on the same page: any email creates the account.
function interactionPolicyWithCreate() {
  const policy = interactionPolicy.base();
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0);
  return policy;
}

/**
 * @param {object} config from loadConfig, with `issuer` resolved
 * @param {object} keys from loadKeys
 */
export function createProvider(config, keys) {
  const { issuer, clientId, audience, accessTokenTtl, redirectUris } = config;
  const originAllowed = corsOriginCheck(redirectUris);

  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_name: 'Banter',
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: redirectUris,
      post_logout_redirect_uris: redirectUris,
    }],
    jwks: keys.jwks,
    cookies: {
      keys: keys.cookieKeys,
      // Own names: the Banter server runs on localhost too, and browsers do
      // not separate cookies by port. SameSite=Lax and no Secure flag (the
      // defaults over http) so Chromium keeps them on http://localhost.
      names: { session: 'banter_idp_session', interaction: 'banter_idp_interaction', resume: 'banter_idp_resume' },
    },
    // Only what the SPA uses: code flow, public client.
    responseTypes: ['code'],
    clientAuthMethods: ['none'],
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'nickname'],
    },
    // Put the scope's claims (email) in the ID token too, as Auth0 does,
    // not only in the userinfo response.
    conformIdTokenClaims: false,
    findAccount,
    // The Banter API reads the user's email, and whether it is verified, from the
    // access token (as an Auth0 post-login Action puts them there).
    async extraTokenClaims(_ctx, token) {
      if (!token.accountId) return undefined;
      const { email, email_verified } = claimsFor(token.accountId);
      return { email, email_verified };
    },
    extraParams: {
      // oidc-client-ts sends Auth0's `audience`; accept it when it names the API.
      async audience(_ctx, value) {
        if (value !== undefined && value !== audience) {
          throw new errors.InvalidTarget(`unknown audience ${value}; this provider issues tokens for ${audience}`);
        }
      },
      screen_hint: null,
    },
    interactions: {
      policy: interactionPolicyWithCreate(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 offers
    allowOmittingSingleRegisteredRedirectUri: false,
    // Refresh tokens for the SPA on every code grant, even without
    // offline_access: oidc-provider drops offline_access unless prompt=consent,
    // which the SPA does not send. They still end with the provider session.
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // Lifetimes set here rather than left to oidc-provider's defaults (which
    // log a notice each). Rotated refresh tokens keep the first one's end,
    // as by default for a browser client.
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      Session: 14 * DAY,
      Grant: 14 * DAY,
      RefreshToken(ctx) {
        return ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? 14 * DAY;
      },
    },
    clientBasedCORS(_ctx, origin) {
      return originAllowed(origin);
    },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      resourceIndicators: {
        enabled: true,
        // Tokens are for the API even when the request names no resource.
        async defaultResource() {
          return audience;
        },
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (resourceIndicator !== audience) {
            throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          }
          return {
            // The OIDC scopes are listed as the API's too so the access
            // token's `scope` claim reads "openid email …" as Auth0's does.
            scope: 'openid profile email offline_access',
            audience,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = signedOutPage();
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
  });

  // DEVELOPMENT ONLY, after oidc-provider's "redirect_uri_wildcards" recipe:
  // besides the registered URIs, accept any loopback http URI for sign-in
  // and sign-out redirects.
  const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
  provider.Client.prototype.redirectUriAllowed = function devRedirectUriAllowed(value) {
    return redirectUriAllowed.call(this, value) || isLoopbackUrl(value);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function devPostLogoutRedirectUriAllowed(value) {
    return postLogoutRedirectUriAllowed.call(this, value) || isLoopbackUrl(value);
  };

  return provider;
}
