// How the page writes times: how long ago a message of the last hour was ("just now",
// "12 min. ago"), else its time of day (with the date once it is not today's), the full
// date for tooltips, and the labels of the day separators. The person's locale decides the
// words; `now` is passed in so tests can fix it. `useMinute` re-renders what shows a
// relative time, all on one shared timer.

import { useSyncExternalStore } from "react";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Up to this age a message's time is said relative to now. */
export const RELATIVE_WITHIN_MS = 60 * MINUTE_MS;

function parse(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The local calendar day of a time, as a key that sorts (`2026-11-30`). */
export function dayKey(iso: string): string {
  const date = parse(iso);
  if (!date) return "";
  const month = String(date.getMonth() + 1).padStart(2, "0");
  const day = String(date.getDate()).padStart(2, "0");
  return `${date.getFullYear()}-${month}-${day}`;
}

/**
 * The time shown on a message: "just now" in its first minute, "12 min. ago" within the
 * hour, then "14:05" today, "28 Nov, 14:05" before, with the year in another year.
 */
export function messageTime(iso: string, now: Date = new Date()): string {
  const date = parse(iso);
  if (!date) return "";
  const age = now.getTime() - date.getTime();
  // A clock a little behind the server's still says "just now", not "in 1 min.".
  if (age < MINUTE_MS && age > -MINUTE_MS) return "just now";
  if (age > 0 && age < RELATIVE_WITHIN_MS) {
    const minutes = Math.floor(age / MINUTE_MS);
    return new Intl.RelativeTimeFormat([], { numeric: "auto", style: "short" }).format(-minutes, "minute");
  }
  const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (dayKey(iso) === dayKey(now.toISOString())) return clock;
  const day = date.toLocaleDateString([], {
    day: "numeric",
    month: "short",
    year: date.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
  return `${day}, ${clock}`;
}

/** The whole date and time, for a tooltip: "Monday, 30 November 2026 at 14:05". */
export function fullTime(iso: string): string {
  const date = parse(iso);
  return date ? date.toLocaleString([], { dateStyle: "full", timeStyle: "short" }) : "";
}

/** A day separator's words: "Today", "Yesterday", or the date ("Friday, 27 November"). */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const date = parse(iso);
  if (!date) return "";
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return "Today";
  if (key === dayKey(new Date(now.getTime() - DAY_MS).toISOString())) return "Yesterday";
  return date.toLocaleDateString([], {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: date.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
}

/** Messages this close together from one sender share one header. */
export const GROUP_WITHIN_MS = 5 * 60_000;

/**
 * Whether a message goes under the previous one's header: the same sender, the same day,
 * within five minutes, and not a reply (a quote starts its own block).
 */
export function continuesGroup(
  previous: { sender_id: string; created_at: string } | undefined,
  message: { sender_id: string; created_at: string; reply_to?: unknown },
): boolean {
  if (!previous || previous.sender_id !== message.sender_id || message.reply_to) return false;
  if (dayKey(previous.created_at) !== dayKey(message.created_at)) return false;
  const gap = Date.parse(message.created_at) - Date.parse(previous.created_at);
  return gap >= 0 && gap <= GROUP_WITHIN_MS;
}

// One timer for every relative time on the page, ticking once a minute while anything
// shows one.
const minuteListeners = new Set<() => void>();
let minuteTimer: ReturnType<typeof setInterval> | undefined;
let minute = Math.floor(Date.now() / MINUTE_MS);

function subscribeMinute(listener: () => void): () => void {
  minuteListeners.add(listener);
  minuteTimer ??= setInterval(() => {
    minute = Math.floor(Date.now() / MINUTE_MS);
    for (const l of minuteListeners) l();
  }, MINUTE_MS / 4);
  return () => {
    minuteListeners.delete(listener);
    if (minuteListeners.size === 0) {
      clearInterval(minuteTimer);
      minuteTimer = undefined;
    }
  };
}

/**
 * The current minute, re-rendering the caller when it turns; `live` false (a time that is
 * no longer relative) subscribes to nothing.
 */
export function useMinute(live: boolean): number {
  return useSyncExternalStore(live ? subscribeMinute : noSubscription, () => minute);
}

function noSubscription(): () => void {
  return () => {};
}
