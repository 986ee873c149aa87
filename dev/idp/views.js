// HTML pages of the development provider. Self-contained (inline CSS, no
// external assets) so they render the same offline and in browser tests.

export function escapeHtml(value) {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
  :root { color-scheme: light dark; --fg: #1d2330; --muted: #4a5468; --bg: #f4f5f8; --card: #fff;
    --accent: #2f5fd0; --accent-fg: #fff; --warn-bg: #fff4d6; --warn-fg: #5c4300; --error: #b3261e; --border: #c9cfdb; }
  @media (prefers-color-scheme: dark) {
    :root { --fg: #e8eaf0; --muted: #b4bbca; --bg: #14171d; --card: #1f232b; --accent: #8fb0ff; --accent-fg: #0d1220;
      --warn-bg: #3d3214; --warn-fg: #ffe6a3; --error: #ffb4ab; --border: #454c5b; }
  }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 1.5rem;
    font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  main { width: 100%; max-width: 26rem; background: var(--card); border: 1px solid var(--border);
    border-radius: 12px; padding: 2rem; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  p { margin: 0 0 1rem; }
  .notice { background: var(--warn-bg); color: var(--warn-fg); border-radius: 8px; padding: .75rem 1rem; font-size: .95rem; }
  .error { color: var(--error); font-weight: 600; }
  label { display: block; font-weight: 600; margin-bottom: .35rem; }
  input { width: 100%; font: inherit; padding: .6rem .75rem; border: 1px solid var(--border); border-radius: 8px;
    background: transparent; color: inherit; margin-bottom: 1rem; }
  input[aria-invalid="true"] { border-color: var(--error); }
  button { width: 100%; font: inherit; font-weight: 600; padding: .65rem 1rem; border: 0; border-radius: 8px;
    background: var(--accent); color: var(--accent-fg); cursor: pointer; }
  input:focus-visible, button:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  dl { margin: 0; font-size: .9rem; } dt { font-weight: 600; } dd { margin: 0 0 .5rem; word-break: break-word; }
`;

function page(title, body, { head = '' } = {}) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
${head}</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export const LOGIN_TITLE = 'Banter — development sign-in';
export const DEV_NOTICE = 'Development identity provider: any email signs in (and creates the account). Not for production.';

/** The sign-in form. `error` re-shows it with a message tied to the field. */
export function loginPage({ action, email = '', error } = {}) {
  const errorHtml = error ? `<p class="error" id="email-error" role="alert">${escapeHtml(error)}</p>\n` : '';
  const invalid = error ? ' aria-invalid="true" aria-describedby="email-error"' : '';
  return page(LOGIN_TITLE, `<h1>Sign in to Banter</h1>
<p class="notice" role="note">${escapeHtml(DEV_NOTICE)}</p>
${errorHtml}<form method="post" action="${escapeHtml(action)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" required autofocus autocomplete="email" spellcheck="false" value="${escapeHtml(email)}"${invalid}>
<button type="submit">Sign in</button>
</form>`);
}

const AUTO_SUBMIT = "document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit(); });";

/**
 * RP-initiated logout: Auth0 signs out without asking, so the confirmation
 * form is submitted by an inline script (with a button for no-script use).
 * `form` is oidc-provider's form markup carrying the xsrf token; the hidden
 * `logout` field means "end the whole session", like the default "Yes" button.
 */
export function logoutPage(form) {
  const withLogout = form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>');
  return page('Banter — signing out', `<h1>Signing out of Banter…</h1>
${withLogout}
<noscript><button type="submit" form="op.logoutForm">Continue</button></noscript>`, {
    head: `<script>${AUTO_SUBMIT}</script>\n`,
  });
}

/** Shown after logout when the client gave no post_logout_redirect_uri. */
export function signedOutPage() {
  return page('Banter — signed out', `<h1>You are signed out</h1>
<p>You have been signed out of the Banter development identity provider.</p>`);
}

/** Errors (bad request, expired sign-in, unknown redirect URI, …). */
export function errorPage(out) {
  const rows = Object.entries(out)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  return page('Banter — sign-in error', `<h1>Sign-in could not continue</h1>
<p>Go back to Banter and try signing in again.</p>
<dl>
${rows}
</dl>`);
}
