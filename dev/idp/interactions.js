// The provider's own sign-in pages (oidc-provider's devInteractions are off).
// GET /interaction/:uid shows the email form; POST signs in. Consent is
// granted without a page, as Auth0 does for a first-party SPA.

import { accountIdFor } from './accounts.js';
import { errorPage, loginPage } from './views.js';

const PATH = /^\/interaction\/([\w-]+)$/;
const MAX_BODY = 16 * 1024;

async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      const err = new Error('request body too large');
      err.status = 413;
      err.expose = true;
      throw err;
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function noStore(ctx) {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

function showForm(ctx, uid, { email, error, status = 200 } = {}) {
  noStore(ctx);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = loginPage({ action: `/interaction/${uid}`, email, error });
}

// Everything the client asked for is granted: the OIDC scopes and claims
// and the API's scopes (the interaction lists exactly what is missing).
async function grantConsent(provider, interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });

  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

// Errors here happen outside oidc-provider's routes, so they are rendered
// like its own: an HTML page with the error code and description.
async function renderErrors(ctx, handle) {
  try {
    await handle();
  } catch (err) {
    const status = err.statusCode || err.status || 500;
    const shown = status < 500 || err.expose;
    noStore(ctx);
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = errorPage({
      error: err.error || (shown ? 'invalid_request' : 'server_error'),
      error_description: shown ? err.error_description || err.message : 'unexpected error',
    });
    if (!shown) ctx.app.emit('error', err, ctx);
  }
}

/** Koa middleware for /interaction/:uid. `log` gets one line per sign-in. */
export function interactions(provider, { log }) {
  return async function interactionRoutes(ctx, next) {
    const match = PATH.exec(ctx.path);
    if (!match || (ctx.method !== 'GET' && ctx.method !== 'POST')) {
      return next();
    }
    return renderErrors(ctx, () => handle(provider, ctx, match[1], log));
  };
}

async function handle(provider, ctx, uid, log) {
  // Throws SessionNotFound (rendered by renderErrors) when the sign-in
  // cookie is missing or the interaction expired.
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.uid !== uid) {
    ctx.throw(400, 'this sign-in page belongs to another sign-in attempt; start again from Banter');
  }
  const { prompt, params } = interaction;

  if (prompt.name === 'consent') {
    const grantId = await grantConsent(provider, interaction);
    const returnTo = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    noStore(ctx);
    ctx.status = 303;
    return ctx.redirect(returnTo);
  }

  // 'login', and 'create' (prompt=create, Auth0's screen_hint=signup): one
  // page, since any email creates the account.
  if (prompt.name !== 'login' && prompt.name !== 'create') {
    ctx.throw(501, `unsupported sign-in step ${prompt.name}`);
  }

  if (ctx.method === 'GET') {
    return showForm(ctx, uid, { email: typeof params.login_hint === 'string' ? params.login_hint : '' });
  }

  const form = await readForm(ctx.req);
  const typed = form.get('email') ?? '';
  const accountId = accountIdFor(typed);
  if (!accountId) {
    return showForm(ctx, uid, { email: typed, error: 'Enter a valid email address, like alice@example.com.', status: 400 });
  }

  // Both keys resolve both prompts whichever one was pending.
  const result = { login: { accountId }, create: {} };
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  log(`signed in ${accountId}`);
  noStore(ctx);
  ctx.status = 303;
  return ctx.redirect(returnTo);
}
