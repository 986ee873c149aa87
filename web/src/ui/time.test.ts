import { describe, expect, it } from "vitest";
import { continuesGroup, dayKey, dayLabel, messageTime } from "./time";

// Local times, so the checks hold in any time zone.
const at = (y: number, m: number, d: number, h = 12, min = 0) => new Date(y, m - 1, d, h, min).toISOString();
const now = new Date(2026, 10, 30, 15, 0);

describe("message times", () => {
  it("shows only the time today and the date before today", () => {
    expect(messageTime(at(2026, 11, 30, 9, 5), now)).not.toMatch(/Nov/);
    expect(messageTime(at(2026, 11, 28, 3, 24), now)).toMatch(/28/);
    expect(messageTime(at(2026, 11, 28, 3, 24), now)).toMatch(/Nov/);
    expect(messageTime(at(2025, 11, 28, 3, 24), now)).toMatch(/2025/);
  });

  it("says how long ago a message of the last hour was", () => {
    const ago = (ms: number) => messageTime(new Date(now.getTime() - ms).toISOString(), now);
    expect(ago(10_000)).toBe("just now");
    expect(ago(-20_000)).toBe("just now");
    expect(ago(5 * 60_000)).toMatch(/5/);
    expect(ago(5 * 60_000)).not.toMatch(/:/);
    expect(ago(59 * 60_000)).toMatch(/59/);
    expect(ago(61 * 60_000)).toMatch(/:/);
  });

  it("labels days as today, yesterday, or their date", () => {
    expect(dayLabel(at(2026, 11, 30), now)).toBe("Today");
    expect(dayLabel(at(2026, 11, 29), now)).toBe("Yesterday");
    expect(dayLabel(at(2026, 11, 27), now)).toMatch(/27/);
    expect(dayKey(at(2026, 1, 2))).toBe("2026-01-02");
  });
});

describe("grouping", () => {
  const a = (iso: string, extra = {}) => ({ sender_id: "a", created_at: iso, ...extra });
  it("puts one sender's messages within five minutes under one header", () => {
    expect(continuesGroup(a(at(2026, 11, 30, 10, 0)), a(at(2026, 11, 30, 10, 4)))).toBe(true);
  });
  it("starts a new header for another sender, a long pause, a new day or a reply", () => {
    expect(continuesGroup(undefined, a(at(2026, 11, 30, 10, 0)))).toBe(false);
    expect(continuesGroup({ sender_id: "b", created_at: at(2026, 11, 30, 10, 0) }, a(at(2026, 11, 30, 10, 1)))).toBe(false);
    expect(continuesGroup(a(at(2026, 11, 30, 10, 0)), a(at(2026, 11, 30, 10, 6)))).toBe(false);
    expect(continuesGroup(a(at(2026, 11, 29, 23, 59)), a(at(2026, 11, 30, 0, 1)))).toBe(false);
    expect(continuesGroup(a(at(2026, 11, 30, 10, 0)), a(at(2026, 11, 30, 10, 1), { reply_to: { seq: 1 } }))).toBe(false);
  });
});
