// Entry point of Banter's development identity provider (`npm start`), and
// `start()` for tests that run it in-process. Not for production: Banter
// uses Auth0 there.

import * as fs from 'node:fs';
import * as http from 'node:http';
import { pathToFileURL } from 'node:url';

import { loadConfig } from './config.js';
import { interactions } from './interactions.js';
import { loadKeys } from './keys.js';
import { corsOriginCheck, createProvider } from './provider.js';
import { apiTokenRevocation, apiTokenUserinfo } from './api-tokens.js';

// Where localhost may resolve to: 127.0.0.1 on some machines, ::1 on others
// (and Node and browsers may pick either). Listening on both makes the
// default issuer http://localhost:PORT work everywhere without leaving loopback.
const LOOPBACK = ['127.0.0.1', '::1'];
const NO_SUCH_ADDRESS = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function listenAll(handler, port, hosts, log) {
  const servers = [];
  let actualPort = port;
  for (const host of hosts) {
    const server = http.createServer(handler);
    try {
      await listen(server, actualPort, host);
    } catch (err) {
      // The first address is required; the second loopback one is a bonus.
      if (servers.length === 0) throw err;
      if (!NO_SUCH_ADDRESS.has(err.code)) {
        log(`warning: cannot listen on [${host}]:${actualPort} (${err.code}); if localhost resolves there, another program answers`);
      }
      continue;
    }
    actualPort = server.address().port; // port 0 picks one; the next host reuses it
    servers.push(server);
  }
  return { servers, port: actualPort };
}

/**
 * Starts the provider. `options` override the IDP_* environment variables
 * (port, host, issuer, clientId, audience, accessTokenTtl, keyFile,
 * redirectUris) and `log` replaces console.log.
 * Resolves to { issuer, port, clientId, audience, close }.
 */
export async function start(options = {}, env = process.env) {
  const { log = (line) => console.log(line), ...overrides } = options;
  const config = loadConfig(env, overrides);
  const keys = loadKeys(config.keyFile);

  // The provider needs the issuer, which needs the port: listen first and
  // hand requests over once the provider exists.
  let handle = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const hosts = config.host ? [config.host] : LOOPBACK;
  const { servers, port } = await listenAll((req, res) => handle(req, res), config.port, hosts, log);

  const issuer = config.issuer ?? `http://localhost:${port}`;
  const provider = createProvider({ ...config, issuer }, keys);
  provider.use(apiTokenUserinfo({
    path: provider.pathFor('userinfo'),
    issuer,
    audience: config.audience,
    publicKey: keys.publicKey,
    kid: keys.kid,
    isAllowedOrigin: corsOriginCheck(config.redirectUris),
  }));
  provider.use(apiTokenRevocation({ path: provider.pathFor('revocation') }));
  provider.use(interactions(provider, { log }));
  // Unexpected server errors only; OIDC errors are answered to the client.
  provider.on('server_error', (_ctx, err) => log(`server error: ${err.stack || err}`));
  handle = provider.callback();

  log(`dev identity provider on ${issuer} (client ${config.clientId}, audience ${config.audience})`);

  async function close() {
    await Promise.all(servers.map((server) => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })));
  }

  return { issuer, port, clientId: config.clientId, audience: config.audience, close };
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  try {
    const running = await start();
    let stopping = false;
    const stop = async (signal) => {
      if (stopping) return;
      stopping = true;
      await running.close();
      console.log(`dev identity provider stopped (${signal})`);
      process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  } catch (err) {
    console.error(err.code === 'EADDRINUSE' ? `dev identity provider: ${err.message}; set IDP_PORT to another port` : err);
    process.exit(1);
  }
}
