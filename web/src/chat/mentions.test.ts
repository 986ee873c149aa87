import { describe, expect, it } from "vitest";
import { mentionChoices, mentionedEmails, mentions, typedMention, unreadMentions } from "./mentions";

describe("mentions", () => {
  it("finds @ and an email anywhere, as the server does", () => {
    expect(mentionedEmails("@Ada@Example.com, ask @bob.smith+chat@mail.example.org?")).toEqual([
      "ada@example.com",
      "bob.smith+chat@mail.example.org",
    ]);
    expect(mentionedEmails("thanks (@ada@example.com).")).toEqual(["ada@example.com"]);
    for (const text of ["write to ada@example.com", "@ada", "@ada@localhost", "a@b@c.d"]) {
      expect(mentionedEmails(text)).toEqual([]);
    }
    expect(mentions("hi @ADA@example.com", "ada@example.com")).toBe(true);
  });

  it("counts only the unread ones", () => {
    const room = { id: "r", kind: "room" as const, last_seq: 9, read_seq: 5, unread: 4, mentions: [3, 6, 9] };
    expect(unreadMentions(room)).toBe(2);
    expect(unreadMentions({ ...room, mentions: undefined })).toBe(0);
  });

  it("reads the mention being typed before the caret and offers members by name or email", () => {
    expect(typedMention("hello @al", 9)).toEqual({ start: 6, query: "al" });
    expect(typedMention("@", 1)).toEqual({ start: 0, query: "" });
    expect(typedMention("mail@al", 7)).toBeNull();
    expect(typedMention("@al and more", 12)).toBeNull();
    const members = [
      { id: "a", email: "alice@example.com", name: "Alice Liddell" },
      { id: "b", email: "bob@example.com" },
      { id: "c", email: "carol@example.com", name: "Carol Lidd" },
    ];
    expect(mentionChoices(members, "lid", "a").map((m) => m.id)).toEqual(["c"]);
    expect(mentionChoices(members, "bo", undefined).map((m) => m.id)).toEqual(["b"]);
    expect(mentionChoices(members, "", "b").map((m) => m.id)).toEqual(["a", "c"]);
  });
});
