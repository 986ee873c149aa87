// @mentions: `@` and a person's email in a room message, as the server reads them
// (src/domain/mention.rs): the page highlights them under the person's name, counts a
// room's unread ones apart, and offers members to mention as one types.

import type { Conversation, User } from "./protocol";
import { nameOf } from "./names";

/** A mention in text: an `@` not continuing a word or address, then an email. */
export const MENTION = /(?<![A-Za-z0-9._%+@-])@([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)/;

/** The emails a text mentions, lower case, each once (at most 20, as the server counts). */
export function mentionedEmails(text: string): string[] {
  const found: string[] = [];
  const all = new RegExp(MENTION.source, "g");
  for (const match of text.matchAll(all)) {
    const email = match[1].replace(/[.-]+$/, "").toLowerCase();
    if (!found.includes(email)) found.push(email);
    if (found.length === 20) break;
  }
  return found;
}

/** Whether `text` mentions `email`. */
export function mentions(text: string, email: string): boolean {
  return mentionedEmails(text).includes(email.toLowerCase());
}

/** How many unread messages of a conversation mention me. */
export function unreadMentions(conversation: Conversation | undefined): number {
  if (!conversation?.mentions) return 0;
  return conversation.mentions.filter((seq) => seq > conversation.read_seq).length;
}

/**
 * The mention being typed just before the caret (`@ad` → "ad"), or null. It starts at an
 * `@` at the start of the text or after white space.
 */
export function typedMention(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)@([^\s@]*)$/.exec(before);
  if (!match) return null;
  return { start: caret - match[2].length - 1, query: match[2].toLowerCase() };
}

/** The members a typed mention may mean: by the start of their name, a word of it, or their email. */
export function mentionChoices(members: User[], query: string, me: string | undefined, limit = 8): User[] {
  return members
    // Someone whose email a mention cannot spell (no dot in the domain, say) is left out.
    .filter((m) => m.id !== me && mentionedEmails(`@${m.email}`).length === 1)
    .filter((m) => {
      const name = nameOf(m).toLowerCase();
      return (
        name.startsWith(query) || name.split(/\s+/).some((w) => w.startsWith(query)) || m.email.toLowerCase().startsWith(query)
      );
    })
    .slice(0, limit);
}
