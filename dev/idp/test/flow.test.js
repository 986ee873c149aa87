// Drives the provider the way the Banter SPA does (oidc-client-ts: code +
// PKCE, `audience` param, refresh, sign-out), with plain fetch, manual
// redirects and a small cookie jar. Every request has a timeout.

import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

import { loadKeys } from '../keys.js';
import { start } from '../server.js';

const REQUEST_TIMEOUT_MS = 5000;
const MAX_HOPS = 10;
const AUDIENCE = 'http://localhost:8080/api';
const CLIENT_ID = 'banter-web';
const SCOPE = 'openid email offline_access';

class CookieJar {
  #cookies = new Map(); // name -> { value, path }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies]
      .filter(([, c]) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attr = (key) => attrs.find((a) => a.toLowerCase().startsWith(`${key}=`))?.split('=')[1];
      assert.ok(!attrs.some((a) => a.toLowerCase() === 'secure'), `cookie ${name} must not be Secure over http`);
      const expires = attr('expires');
      if (value === '' || (expires && Date.parse(expires) <= Date.now())) {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, { value, path: attr('path') ?? '/' });
      }
    }
  }
}

async function request(jar, url, { method = 'GET', form, headers = {} } = {}) {
  const init = {
    method,
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    headers: { ...headers },
  };
  const cookie = jar?.header(url);
  if (cookie) init.headers.cookie = cookie;
  if (form) {
    init.body = new URLSearchParams(form).toString();
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(url, init);
  jar?.store(response);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, url };
}

/**
 * Follows redirects inside the provider. Stops at the first page (a non-3xx
 * answer) or at a redirect leaving the provider, returned as `location`.
 * `hops` lists every provider URL visited, to prove no page was shown.
 */
async function follow(jar, issuer, first) {
  let current = first;
  const hops = [];
  for (let i = 0; i < MAX_HOPS; i += 1) {
    hops.push(current.url);
    if (current.status < 300 || current.status >= 400) return { page: current, hops };
    const location = new URL(current.headers.get('location'), current.url).href;
    if (new URL(location).origin !== new URL(issuer).origin) return { location, hops };
    current = await request(jar, location);
  }
  throw new Error(`more than ${MAX_HOPS} redirects: ${hops.join(' -> ')}`);
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizeUrl(discovery, { redirectUri, challenge, state, nonce, extra = {} }) {
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    scope: SCOPE,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    audience: AUDIENCE,
    ...extra,
  }).toString();
  return url.href;
}

function formAction(html) {
  const match = /<form[^>]*\baction="([^"]+)"/.exec(html);
  assert.ok(match, 'page has a form with an action');
  return match[1].replaceAll('&amp;', '&');
}

function hiddenInputs(html) {
  const fields = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) {
    fields[name] = value;
  }
  return fields;
}

describe('Banter dev identity provider', { timeout: 60_000 }, () => {
  let running;
  let discovery;
  let jwks;
  let tmp;
  let clientOrigin;
  let redirectUri;
  const lines = [];

  async function getJson(url, headers = {}) {
    const res = await request(undefined, url, { headers });
    assert.equal(res.status, 200, `${url}: ${res.text}`);
    return { body: JSON.parse(res.text), headers: res.headers };
  }

  // Runs the browser part of a sign-in; returns the code and what was seen.
  async function signIn(jar, typedEmail, extra) {
    const { verifier, challenge } = pkce();
    const state = crypto.randomUUID();
    const nonce = crypto.randomUUID();
    const first = await request(jar, authorizeUrl(discovery, { redirectUri, challenge, state, nonce, extra }));
    let { page, location, hops } = await follow(jar, running.issuer, first);
    let loginPage;
    if (page) {
      loginPage = page;
      assert.equal(page.status, 200, page.text);
      assert.match(page.url, /\/interaction\/[\w-]+$/);
      const posted = await request(jar, new URL(formAction(page.text), page.url).href, {
        method: 'POST',
        form: { email: typedEmail },
      });
      assert.equal(posted.status, 303, posted.text);
      ({ page, location, hops } = await follow(jar, running.issuer, posted));
      assert.equal(page, undefined, `no page after signing in (no consent), got ${page?.status} at ${page?.url}: ${page?.text}`);
    }
    assert.ok(location.startsWith(`${redirectUri}?`), `redirected back to the client: ${location}`);
    const params = new URL(location).searchParams;
    assert.equal(params.get('state'), state);
    assert.equal(params.get('error'), null, params.get('error_description'));
    assert.equal(params.get('iss'), running.issuer);
    return { code: params.get('code'), verifier, nonce, loginPage, hops };
  }

  async function token(form, origin = clientOrigin) {
    const res = await request(undefined, discovery.token_endpoint, {
      method: 'POST',
      form: { client_id: CLIENT_ID, ...form },
      headers: { origin },
    });
    return { ...res, body: JSON.parse(res.text) };
  }

  async function exchange({ code, verifier }) {
    const res = await token({
      grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), clientOrigin);
    return res.body;
  }

  async function verifyAccessToken(accessToken) {
    const header = decodeProtectedHeader(accessToken);
    assert.equal(header.alg, 'RS256');
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), `kid ${header.kid} is in the JWKS`);
    const { payload } = await jwtVerify(accessToken, createLocalJWKSet(jwks), {
      issuer: running.issuer,
      audience: AUDIENCE,
      algorithms: ['RS256'],
    });
    assert.equal(payload.aud, AUDIENCE, 'aud is the audience, as a string');
    for (const claim of ['iss', 'sub', 'exp', 'iat', 'scope', 'email']) {
      assert.ok(payload[claim] !== undefined, `access token has ${claim}`);
    }
    assert.ok(payload.scope.split(' ').includes('openid'), `scope ${payload.scope}`);
    assert.ok(payload.exp - payload.iat <= 3600);
    return payload;
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'banter-idp-test-'));
    running = await start({ port: 0, keyFile: path.join(tmp, 'jwks.json'), log: (line) => lines.push(line) }, {});
    // Some other loopback port, as when Banter runs on a random port.
    const otherPort = running.port === 65535 ? 1024 : running.port + 1;
    clientOrigin = `http://localhost:${otherPort}`;
    redirectUri = `${clientOrigin}/auth/callback`;
  });

  after(async () => {
    await running?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('publishes discovery with the exact issuer and CORS', async () => {
    assert.equal(running.issuer, `http://localhost:${running.port}`);
    assert.ok(lines.includes(`dev identity provider on ${running.issuer} (client ${CLIENT_ID}, audience ${AUDIENCE})`), lines.join('\n'));
    const res = await getJson(`${running.issuer}/.well-known/openid-configuration`, { origin: 'http://localhost:5173' });
    discovery = res.body;
    assert.equal(discovery.issuer, running.issuer);
    assert.ok(res.headers.get('access-control-allow-origin'));
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    assert.ok(discovery.end_session_endpoint);
    jwks = (await getJson(discovery.jwks_uri, { origin: clientOrigin })).body;
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].d, undefined, 'JWKS holds no private part');
  });

  let first;
  const browser = new CookieJar();

  it('signs in with any email and returns a code without a consent page', async () => {
    const result = await signIn(browser, '  Alice@Example.COM ');
    const html = result.loginPage.text;
    assert.match(html, /<title>Banter — development sign-in<\/title>/);
    assert.ok(html.includes('Development identity provider: any email signs in (and creates the account). Not for production.'));
    assert.match(html, /<label for="email">Email<\/label>/);
    assert.match(html, /<input id="email" name="email" type="email" required autofocus/);
    assert.match(html, /<button type="submit">Sign in<\/button>/);
    assert.doesNotMatch(html, /(src|href)="https?:/, 'no external assets');
    assert.ok(lines.includes('signed in alice@example.com'), lines.join('\n'));
    first = result;
  });

  let tokens;
  let claims;

  it('exchanges the code for an RS256 JWT access token for the API', async () => {
    tokens = await exchange(first);
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.refresh_token, 'refresh token issued to the SPA');
    claims = await verifyAccessToken(tokens.access_token);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.email_verified, true, 'the access token says the email is verified');

    const { payload: idToken } = await jwtVerify(tokens.id_token, createLocalJWKSet(jwks), {
      issuer: running.issuer, audience: CLIENT_ID,
    });
    assert.equal(idToken.email, 'alice@example.com');
    assert.equal(idToken.email_verified, true);
    assert.equal(idToken.nonce, first.nonce);
    assert.equal(idToken.sub, claims.sub);
  });

  it('marks a +unverified address as not verified, in every token and in userinfo', async () => {
    const result = await signIn(new CookieJar(), 'eve+unverified@example.com');
    const issued = await exchange(result);
    const access = await verifyAccessToken(issued.access_token);
    assert.equal(access.email, 'eve+unverified@example.com');
    assert.equal(access.email_verified, false);
    const { payload: idToken } = await jwtVerify(issued.id_token, createLocalJWKSet(jwks), {
      issuer: running.issuer, audience: CLIENT_ID,
    });
    assert.equal(idToken.email_verified, false);
    const res = await request(undefined, discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${issued.access_token}` },
    });
    assert.equal(JSON.parse(res.text).email_verified, false);
  });

  it('refuses a code without the right PKCE verifier, or a second time', async () => {
    // A separate sign-in: replaying a code revokes what it was exchanged for.
    const other = await signIn(new CookieJar(), 'carol@example.com');
    const form = { grant_type: 'authorization_code', code: other.code, redirect_uri: redirectUri };
    const wrong = await token({ ...form, code_verifier: pkce().verifier });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    const missing = await token(form);
    assert.equal(missing.status, 400);
    await exchange(other);
    const again = await token({ ...form, code_verifier: other.verifier });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
  });

  it('answers userinfo for the access token', async () => {
    const res = await request(undefined, discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}`, origin: clientOrigin },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), clientOrigin);
    const body = JSON.parse(res.text);
    assert.equal(body.sub, claims.sub);
    assert.equal(body.email, 'alice@example.com');
    assert.equal(body.email_verified, true);
  });

  it('renews with the refresh token', async () => {
    const res = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('access-control-allow-origin'), clientOrigin);
    assert.notEqual(res.body.access_token, tokens.access_token);
    const renewed = await verifyAccessToken(res.body.access_token);
    assert.equal(renewed.sub, claims.sub);
    assert.equal(renewed.email, 'alice@example.com');
    assert.ok(res.body.refresh_token, 'rotated refresh token');
    tokens = { ...tokens, ...res.body };
  });

  it('answers CORS preflight for loopback origins only', async () => {
    const preflight = await request(undefined, discovery.token_endpoint, {
      method: 'OPTIONS',
      headers: { origin: clientOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), clientOrigin);

    const foreign = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, 'https://evil.example');
    assert.equal(foreign.status, 400);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('gives the same sub to the same email in another browser', async () => {
    const again = await signIn(new CookieJar(), 'alice@example.com');
    const other = await verifyAccessToken((await exchange(again)).access_token);
    assert.equal(other.sub, claims.sub);
  });

  it('signs in again silently while the provider session lasts', async () => {
    const silent = await signIn(browser, 'unused@example.com');
    assert.equal(silent.loginPage, undefined, 'no login page with a session');
    assert.ok(silent.code);
  });

  it('shows the same page for prompt=create and screen_hint=signup', async () => {
    for (const extra of [{ prompt: 'create' }, { screen_hint: 'signup' }]) {
      const { challenge } = pkce();
      const jar = new CookieJar();
      const res = await request(jar, authorizeUrl(discovery, { redirectUri, challenge, state: 's', nonce: 'n', extra }));
      const { page } = await follow(jar, running.issuer, res);
      assert.equal(page?.status, 200, JSON.stringify(extra));
      assert.match(page.text, /<label for="email">Email<\/label>/);
    }
    const created = await signIn(new CookieJar(), 'new.person@example.com', { prompt: 'create' });
    assert.ok(created.code);
  });

  it('refuses redirect URIs that are not loopback http', async () => {
    for (const evil of ['https://evil.example/', 'http://evil.example:8080/callback', 'https://localhost:3000/callback']) {
      const { challenge } = pkce();
      const res = await request(new CookieJar(), authorizeUrl(discovery, { redirectUri: evil, challenge, state: 's', nonce: 'n' }));
      assert.equal(res.status, 400, evil);
      assert.equal(res.headers.get('location'), null, `no redirect to ${evil}`);
      assert.match(res.text, /redirect_uri/);
    }
  });

  it('refuses another audience', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(discovery, { redirectUri, challenge, state: 's', nonce: 'n', extra: { audience: 'https://other.example/api' } });
    const res = await request(new CookieJar(), url);
    const location = new URL(res.headers.get('location'));
    assert.equal(location.searchParams.get('error'), 'invalid_target');
  });

  it('re-shows the form with 400 for an invalid email', async () => {
    const jar = new CookieJar();
    const { challenge } = pkce();
    const res = await request(jar, authorizeUrl(discovery, { redirectUri, challenge, state: 's', nonce: 'n' }));
    const { page } = await follow(jar, running.issuer, res);
    const action = new URL(formAction(page.text), page.url).href;
    const posted = await request(jar, action, { method: 'POST', form: { email: 'not an email' } });
    assert.equal(posted.status, 400);
    assert.match(posted.text, /<label for="email">Email<\/label>/);
    assert.match(posted.text, /role="alert"/);
    assert.match(posted.text, /value="not an email"/);
    // The same sign-in attempt can still succeed.
    const fixed = await request(jar, action, { method: 'POST', form: { email: 'bob@example.com' } });
    assert.equal(fixed.status, 303);
  });

  it('signs out without a confirmation page and redirects back', async () => {
    const postLogout = `${clientOrigin}/signed-out`;
    const url = new URL(discovery.end_session_endpoint);
    url.search = new URLSearchParams({
      id_token_hint: tokens.id_token, client_id: CLIENT_ID, post_logout_redirect_uri: postLogout, state: 'bye',
    }).toString();
    const page = await request(browser, url.href);
    assert.equal(page.status, 200, page.text);
    // What a browser does: the page submits its own form at once.
    assert.match(page.text, /document\.forms\[0\]\.submit\(\)/);
    assert.doesNotMatch(page.text, /sign me out|stay signed in/i);
    const fields = hiddenInputs(page.text);
    assert.equal(fields.logout, 'yes');
    assert.ok(fields.xsrf);
    const submitted = await request(browser, new URL(formAction(page.text), url).href, { method: 'POST', form: fields });
    assert.equal(submitted.status, 303, submitted.text);
    const back = new URL(submitted.headers.get('location'));
    assert.equal(`${back.origin}${back.pathname}`, postLogout);
    assert.equal(back.searchParams.get('state'), 'bye');

    // The provider session is gone: the next sign-in asks for an email.
    const { challenge } = pkce();
    const next = await request(browser, authorizeUrl(discovery, { redirectUri, challenge, state: 's', nonce: 'n' }));
    const { page: login } = await follow(browser, running.issuer, next);
    assert.match(login?.text ?? '', /<label for="email">Email<\/label>/);
  });

  it('refuses a non-loopback post_logout_redirect_uri', async () => {
    const url = new URL(discovery.end_session_endpoint);
    url.search = new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: 'https://evil.example/' }).toString();
    const res = await request(new CookieJar(), url.href);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });
});

describe('signing keys', { timeout: 30_000 }, () => {
  it('are created once and reused', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'banter-idp-keys-'));
    try {
      const file = path.join(tmp, 'nested', 'jwks.json');
      const a = loadKeys(file);
      const b = loadKeys(file);
      assert.equal(a.kid, b.kid);
      assert.deepEqual(a.cookieKeys, b.cookieKeys);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
