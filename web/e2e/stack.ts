// The real parts the browser tests run against: the dev identity provider (dev/idp), a
// throwaway PostgreSQL database per test, and the Banter server binary serving the built
// web client. Each is a child process with its output kept under test-artifacts/e2e/.

import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, "../..");
export const ARTIFACTS = resolve(ROOT, "test-artifacts/e2e");
export const AUDIENCE = "http://localhost:8080/api";
const PG_BASE = process.env.PG_URL_BASE ?? "postgres://postgres:postgres@127.0.0.1:5432";
const BANTER_BIN = process.env.BANTER_BIN ?? resolve(ROOT, "target/debug/banter");

mkdirSync(ARTIFACTS, { recursive: true });

/** A free TCP port on 127.0.0.1 (bound, then released for the child to take). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

function logTo(child: ChildProcess, file: string): void {
  const out = createWriteStream(resolve(ARTIFACTS, file), { flags: "a" });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once("exit", () => r());
  });
}

export interface IdentityProvider {
  issuer: string;
  stop(): Promise<void>;
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const child = spawn(process.execPath, [resolve(ROOT, "dev/idp/server.js")], {
    env: { ...process.env, IDP_PORT: String(port), IDP_AUDIENCE: AUDIENCE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  logTo(child, "idp.log");
  await waitFor(
    "the identity provider answering discovery",
    async () => (await fetch(`${issuer}/.well-known/openid-configuration`)).ok,
    // Node's cold start of the provider, on a machine also running the other suites.
    120_000,
  );
  return {
    issuer,
    async stop() {
      child.kill("SIGTERM");
      await exited(child);
    },
  };
}

/** A Banter server on its own database; `restart` kills it hard and starts it again. */
export class BanterServer {
  private child: ChildProcess | null = null;
  readonly url: string;

  private constructor(
    readonly port: number,
    private readonly database: string,
    private readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(idp: IdentityProvider, env: Record<string, string> = {}): Promise<BanterServer> {
    const database = `banter_e2e_${randomBytes(6).toString("hex")}`;
    execFileSync("psql", [`${PG_BASE}/postgres`, "-qc", `CREATE DATABASE ${database}`]);
    const port = await freePort();
    const server = new BanterServer(port, database, {
      DATABASE_URL: `${PG_BASE}/${database}`,
      HOST: "127.0.0.1",
      PORT: String(port),
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_CLIENT_ID: "banter-web",
      // Seals the root key kept in this server's database (decision 0012).
      ROOT_KEY_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      STATIC_DIR: resolve(ROOT, "static"),
      RUST_LOG: "info",
      ...env,
    });
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const child = spawn(BANTER_BIN, ["serve"], {
      env: { PATH: process.env.PATH ?? "", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    logTo(child, `server-${this.database}.log`);
    await waitFor("the server becoming ready", async () => (await fetch(`${this.url}/readyz`)).ok, 30_000);
  }

  /** Kills the server without warning (SIGKILL) and starts it again on the same port and data. */
  async restart(downtimeMs = 1000): Promise<void> {
    await this.kill();
    await new Promise((r) => setTimeout(r, downtimeMs));
    await this.launch();
  }

  async kill(): Promise<void> {
    if (!this.child) return;
    this.child.kill("SIGKILL");
    await exited(this.child);
    this.child = null;
  }

  /** Freezes the server (SIGSTOP): its sockets stay open and nothing answers. */
  freeze(): void {
    this.child?.kill("SIGSTOP");
  }

  /** Lets a frozen server go on (SIGCONT). */
  thaw(): void {
    this.child?.kill("SIGCONT");
  }

  async stop(): Promise<void> {
    if (this.child) {
      this.child.kill("SIGCONT");
      this.child.kill("SIGTERM");
      await exited(this.child);
      this.child = null;
    }
    execFileSync("psql", [`${PG_BASE}/postgres`, "-qc", `DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`]);
  }

  /** A session token for `email`, minted with the root key as an operator would (`banter token`). */
  mintToken(email: string): string {
    return execFileSync(BANTER_BIN, ["token", "--email", email], {
      env: { PATH: process.env.PATH ?? "", ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    })
      .toString()
      .trim();
  }

  /** `mintToken` without blocking: for minting many at once. */
  async mintTokenAsync(email: string): Promise<string> {
    const { stdout } = await execFileAsync(BANTER_BIN, ["token", "--email", email], {
      env: { PATH: process.env.PATH ?? "", ...this.env },
    });
    return stdout.trim();
  }

  /** Calls the HTTP API with a session token; throws on an error status. */
  async api<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** Runs one SQL query against this server's database (for checks of what is stored). */
  query(sql: string): string {
    return execFileSync("psql", [`${PG_BASE}/${this.database}`, "-tAc", sql]).toString().trim();
  }
}
