import { describe, expect, it } from "vitest";
import { avatarHue, initials, nameOf } from "./names";

describe("names", () => {
  it("shows the display name, else the email", () => {
    expect(nameOf({ email: "ada@example.com", name: "Ada Lovelace" })).toBe("Ada Lovelace");
    expect(nameOf({ email: "ada@example.com" })).toBe("ada@example.com");
    expect(nameOf(undefined)).toBe("someone");
  });

  it("takes the initials of the first two words, or of an email's local part", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("Zoë ångström von Bahr")).toBe("ZÅ");
    expect(initials("grace.hopper@example.com")).toBe("GH");
    expect(initials("🎈 Balloon")).toBe("B");
    expect(initials("🎈")).toBe("?");
  });

  it("gives each person a steady hue", () => {
    const id = "b0361125-ab1b-4c74-b5a1-86e342fdf159";
    expect(avatarHue(id)).toBe(avatarHue(id));
    expect(avatarHue(id)).toBeGreaterThanOrEqual(0);
    expect(avatarHue(id)).toBeLessThan(360);
  });
});
