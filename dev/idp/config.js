// Settings of the development identity provider, read from the environment.
// Every value has a default that matches running Banter locally, so
// `npm start` with no variables is enough.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const DEFAULT_PORT = 9400;
export const DEFAULT_CLIENT_ID = 'banter-web';
export const DEFAULT_AUDIENCE = 'http://localhost:8080/api';
export const DEFAULT_ACCESS_TOKEN_TTL = 3600;
// Only needed because a client must register at least one redirect URI; any
// loopback URI is accepted anyway (see provider.js).
export const DEFAULT_REDIRECT_URIS = ['http://localhost:8080/'];
// Relative to this folder rather than to the working directory, so the same
// keys are found whether the provider is started from the repository root or
// from dev/idp.
export const DEFAULT_KEY_FILE = path.join(here, '.data', 'jwks.json');

function fail(message) {
  throw new Error(`dev identity provider configuration: ${message}`);
}

function parsePort(value, name) {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`${name} must be a port number, got ${JSON.stringify(value)}`);
  }
  return port;
}

function parseTtl(value) {
  const ttl = Number(value);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    fail(`IDP_ACCESS_TOKEN_TTL must be a positive number of seconds, got ${JSON.stringify(value)}`);
  }
  return ttl;
}

// The issuer is compared byte for byte by the Banter server, so it is taken
// as written. oidc-provider serves its routes at the root, hence no path.
function checkIssuer(issuer) {
  let url;
  try {
    url = new URL(issuer);
  } catch {
    fail(`IDP_ISSUER must be an absolute URL, got ${JSON.stringify(issuer)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail('IDP_ISSUER must be an http or https URL');
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    fail('IDP_ISSUER must not have a path, query or fragment (the provider serves at the root)');
  }
  return issuer;
}

function list(value) {
  return (value || '').split(',').map((item) => item.trim()).filter(Boolean);
}

/**
 * Reads the configuration. `overrides` (used by the tests) win over the
 * environment. `issuer` stays undefined when not given: it defaults to
 * http://localhost:PORT once the real port is known (port 0 picks one).
 */
export function loadConfig(env = process.env, overrides = {}) {
  const pick = (key, envName) => (overrides[key] !== undefined ? overrides[key] : env[envName] || undefined);

  const port = parsePort(pick('port', 'IDP_PORT') ?? DEFAULT_PORT, 'IDP_PORT');
  const issuer = pick('issuer', 'IDP_ISSUER');
  const keyFile = pick('keyFile', 'IDP_KEY_FILE');
  let redirectUris = overrides.redirectUris ?? list(env.IDP_REDIRECT_URIS);
  if (redirectUris.length === 0) redirectUris = DEFAULT_REDIRECT_URIS;

  for (const uri of redirectUris) {
    try {
      new URL(uri); // eslint-disable-line no-new
    } catch {
      fail(`IDP_REDIRECT_URIS holds an invalid URL: ${JSON.stringify(uri)}`);
    }
  }

  return {
    port,
    // undefined means "loopback": 127.0.0.1 and, where the machine has it, ::1.
    host: pick('host', 'IDP_HOST'),
    issuer: issuer === undefined ? undefined : checkIssuer(issuer),
    clientId: pick('clientId', 'IDP_CLIENT_ID') ?? DEFAULT_CLIENT_ID,
    audience: pick('audience', 'IDP_AUDIENCE') ?? DEFAULT_AUDIENCE,
    accessTokenTtl: parseTtl(pick('accessTokenTtl', 'IDP_ACCESS_TOKEN_TTL') ?? DEFAULT_ACCESS_TOKEN_TTL),
    keyFile: keyFile === undefined ? DEFAULT_KEY_FILE : path.resolve(keyFile),
    redirectUris,
  };
}
