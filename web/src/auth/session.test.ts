import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionLost, SignInRefused } from "../chat/client";
import { createSession, REFUSALS } from "./session";

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("createSession", () => {
  it("returns the session the server made", async () => {
    const session = { token: "t", expires_at: "2026-11-21T10:15:00Z", user: { id: "a", email: "a@example.com" } };
    vi.stubGlobal("fetch", vi.fn(async () => answer(201, session)));
    await expect(createSession(async () => "access")).resolves.toEqual(session);
  });

  it("stops with the reason when the server refuses an unverified email, without renewing", async () => {
    const fetch = vi.fn(async () =>
      answer(403, { error: { code: "email_unverified", message: "not verified" } }),
    );
    vi.stubGlobal("fetch", fetch);
    const provider = vi.fn(async () => "access");
    const refused = await createSession(provider).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SignInRefused);
    expect(refused).toBeInstanceOf(SessionLost);
    expect((refused as Error).message).toBe(REFUSALS.email_unverified);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it("shows the server's message for a refusal it has no words of its own for", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(403, { error: { code: "forbidden", message: "no entry" } })));
    const refused = await createSession(async () => "access").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SignInRefused);
    expect((refused as Error).message).toBe("no entry");
  });

  it("renews the provider token once after a 401, then gives up as a lost session", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => answer(401, { error: { code: "unauthorized", message: "expired" } })));
    const provider = vi.fn(async () => "access");
    const lost = await createSession(provider).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(SessionLost);
    expect(lost).not.toBeInstanceOf(SignInRefused);
    expect(provider.mock.calls).toEqual([[false], [true]]);
  });
});
