import { describe, expect, it } from "vitest";
import { avatarHue, initials, listNames, nameOf } from "./names";

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

  it("lists names in a sentence, counting the ones not given", () => {
    expect(listNames(["Ada"])).toBe("Ada");
    expect(listNames(["Ada", "Bob"])).toBe("Ada and Bob");
    expect(listNames(["Ada", "Bob", "Cy"])).toBe("Ada, Bob and Cy");
    expect(listNames(["Ada", "Bob"], 3)).toBe("Ada, Bob and 1 other");
    expect(listNames(["Ada"], 5)).toBe("Ada and 4 others");
    expect(listNames([])).toBe("");
  });
});
