// Every access token here is a JWT for the Banter API. oidc-provider treats
// such tokens as meant for the API only; Auth0 does not, and the SPA may rely
// on that. So:
// - userinfo (/me) answers for an API token issued with the openid scope,
//   as Auth0's /userinfo does (oidc-provider's own /me refuses it);
// - revoking one answers 200 (RFC 7009: nothing to revoke is no error)
//   instead of unsupported_token_type, so oidc-client-ts can revoke both
//   tokens on sign-out. The JWT stays valid until it expires, as with Auth0.
// Everything else is left to oidc-provider.

import * as crypto from 'node:crypto';

import { claimsFor } from './accounts.js';

const SCOPE_CLAIMS = {
  email: ['email', 'email_verified'],
  profile: ['name', 'nickname'],
};

function decodePart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** The payload of a valid API access token issued here, else undefined. */
export function verifyAccessToken(token, { issuer, audience, publicKey, kid }) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = decodePart(parts[0]);
    if (header.alg !== 'RS256' || header.kid !== kid) return undefined;
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!crypto.verify('sha256', signed, publicKey, Buffer.from(parts[2], 'base64url'))) return undefined;
    const payload = decodePart(parts[1]);
    const now = Math.floor(Date.now() / 1000);
    if (payload.iss !== issuer || payload.aud !== audience || !(payload.exp > now)) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

function bearer(ctx) {
  const match = /^Bearer ([\w.~+/-]+=*)$/i.exec(ctx.get('Authorization'));
  return match?.[1];
}

/** Koa middleware; `isAllowedOrigin` decides CORS like the rest of the provider. */
export function apiTokenUserinfo({ path, issuer, audience, publicKey, kid, isAllowedOrigin }) {
  return async function userinfoForApiTokens(ctx, next) {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'POST')) return next();
    const token = bearer(ctx);
    const payload = token && verifyAccessToken(token, { issuer, audience, publicKey, kid });
    const scopes = new Set(String(payload?.scope ?? '').split(' '));
    if (!payload || !scopes.has('openid')) return next();

    const origin = ctx.get('Origin');
    if (origin) {
      ctx.vary('Origin');
      if (!isAllowedOrigin(origin)) return next();
      ctx.set('Access-Control-Allow-Origin', origin);
    }
    const all = claimsFor(payload.sub);
    const body = { sub: all.sub };
    for (const [scope, names] of Object.entries(SCOPE_CLAIMS)) {
      if (scopes.has(scope)) for (const name of names) body[name] = all[name];
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
    return undefined;
  };
}

/** Koa middleware: revoking a JWT access token is a no-op success. */
export function apiTokenRevocation({ path }) {
  return async function revokeApiTokens(ctx, next) {
    await next();
    if (ctx.path === path && ctx.status === 400 && ctx.body?.error === 'unsupported_token_type') {
      ctx.status = 200;
      ctx.body = '';
    }
  };
}
