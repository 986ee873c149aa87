// Signing and cookie keys. The RS256 key is generated on first start and
// kept in a file, so restarting the provider does not invalidate tokens that
// the Banter server or a signed-in browser still holds.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

// RFC 7638 thumbprint: a stable key id derived from the public key itself.
function thumbprint({ e, kty, n }) {
  return crypto.createHash('sha256').update(JSON.stringify({ e, kty, n })).digest('base64url');
}

function generate() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: thumbprint(jwk), alg: 'RS256', use: 'sig' }] };
}

function isUsable(jwks) {
  const key = jwks?.keys?.[0];
  return key?.kty === 'RSA' && typeof key.d === 'string' && typeof key.kid === 'string';
}

function read(file) {
  const jwks = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!isUsable(jwks)) {
    throw new Error(`${file} does not hold an RSA private JWK set; delete it to generate a new one`);
  }
  return jwks;
}

// Writes to a temporary file and links it into place, so two providers
// started at the same moment end up sharing one key instead of each keeping
// a different one in memory.
function create(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(generate(), null, 2)}\n`, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return read(file);
}

/**
 * Returns { jwks, cookieKeys, publicKey, kid } for the key file, creating it
 * when missing.
 */
export function loadKeys(file) {
  const jwks = fs.existsSync(file) ? read(file) : create(file);
  const [jwk] = jwks.keys;
  // Cookie signing keys are derived from the private key rather than stored,
  // so there is one file to keep.
  const cookieKeys = [
    crypto.createHmac('sha256', Buffer.from(jwk.d, 'base64url')).update('banter dev idp cookies').digest('base64url'),
  ];
  const publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  return { jwks, cookieKeys, publicKey, kid: jwk.kid };
}
