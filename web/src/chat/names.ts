// What people are called on the page: their display name, else their email (a person
// without a name yet); and the initials avatar drawn from it.

import type { User } from "./protocol";

/** A person's name on the page: their display name, else their email. */
export function nameOf(user: Pick<User, "email" | "name"> | undefined | null, fallback = "someone"): string {
  return user?.name || user?.email || fallback;
}

/** Up to two letters for an avatar: of the first two words ("Ada Lovelace" → "AL"). */
export function initials(name: string): string {
  const local = name.includes("@") ? name.slice(0, name.indexOf("@")) : name;
  const words = local.split(/[\s._+-]+/u).filter((w) => /[\p{L}\p{N}]/u.test(w));
  const first = (word: string) => Array.from(word.match(/[\p{L}\p{N}]/u)?.[0] ?? "")[0] ?? "";
  const letters = words.slice(0, 2).map(first).join("");
  return (letters || "?").toLocaleUpperCase();
}

/** A steady hue (0–359) for a person's avatar, from their id. */
export function avatarHue(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % 360;
}

/**
 * Names in a sentence: "Ada", "Ada and Bob", "Ada, Bob and Cy"; with `total` above the
 * names given, the rest counted ("Ada, Bob and 3 others").
 */
export function listNames(names: string[], total = names.length): string {
  const others = total - names.length;
  const parts = others > 0 ? [...names, `${others} ${others === 1 ? "other" : "others"}`] : names;
  if (parts.length <= 1) return parts[0] ?? "";
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}
