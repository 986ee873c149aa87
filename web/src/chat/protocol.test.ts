import { describe, expect, it } from "vitest";
import { retryAfterSeconds } from "./protocol";

describe("a busy server's close reason", () => {
  it("names the seconds to wait", () => {
    expect(retryAfterSeconds("server busy; retry_after=5")).toBe(5);
    expect(retryAfterSeconds("retry_after=30")).toBe(30);
  });

  it("names none when the reason does not say", () => {
    expect(retryAfterSeconds("server busy")).toBeNull();
    expect(retryAfterSeconds("")).toBeNull();
    expect(retryAfterSeconds("retry_after=soon")).toBeNull();
    expect(retryAfterSeconds("no_retry_after=5x")).toBeNull();
  });
});
