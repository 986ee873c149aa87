// Noticing what arrives while the tab is in the background: a desktop notification for
// each direct message (the Notification API, asked for only when the person turns it on),
// an optional sound, and the unread count in the tab's title and on its icon.
//
// Every window of a person receives the same message, and only one may speak: the windows
// elect one (the holder of a Web Lock; the next in line takes over when it closes), which
// waits a moment and notifies only if the message is still unread, so a message read in
// another window (read positions are mirrored) makes no sound. The notification's tag is
// the message id, so even two speakers would show it once.

import { useEffect, useSyncExternalStore } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import type { Message } from "../chat/protocol";
import { unread, type ChatState } from "../chat/state";

const SETTINGS_KEY = "banter.notifications";

export interface NotificationSettings {
  /** Desktop notifications for direct messages while the tab is hidden. */
  desktop: boolean;
  /** A short sound with them. */
  sound: boolean;
  /** The person answered the offer (either way): it is not shown again. */
  asked: boolean;
}

const defaults: NotificationSettings = { desktop: false, sound: false, asked: false };
const listeners = new Set<() => void>();
let cached: NotificationSettings | null = null;

export function notificationSettings(): NotificationSettings {
  if (cached) return cached;
  try {
    cached = { ...defaults, ...(JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}") as Partial<NotificationSettings>) };
  } catch {
    cached = defaults;
  }
  return cached;
}

export function saveNotificationSettings(change: Partial<NotificationSettings>): void {
  cached = { ...notificationSettings(), ...change };
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(cached));
  for (const listener of listeners) listener();
}

// Another window changed them.
window.addEventListener("storage", (event) => {
  if (event.key !== SETTINGS_KEY) return;
  cached = null;
  for (const listener of listeners) listener();
});

export function useNotificationSettings(): NotificationSettings {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notificationSettings,
  );
}

/** Whether this browser can show desktop notifications at all. */
export const canNotify = typeof Notification !== "undefined";

/** Asks the browser's permission (after the person pressed "Turn on") and saves the answer. */
export async function turnOnNotifications(): Promise<boolean> {
  if (!canNotify) return false;
  const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
  saveNotificationSettings({ desktop: permission === "granted", asked: true });
  return permission === "granted";
}

function beep(): void {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.08, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
    tone.onended = () => void audio.close();
  } catch {
    // No audio here: the notification is enough.
  }
}

/** How long the speaking window waits for another window to read a message first. */
const NOTIFY_AFTER_MS = 1500;

/**
 * Makes this window a candidate to speak for all of the person's windows; `isSpeaker`
 * tells whether it is the one now. Without Web Locks every window speaks (the tag still
 * shows each message once).
 */
function electSpeaker(): { isSpeaker: () => boolean; resign: () => void } {
  let speaker = typeof navigator.locks === "undefined";
  const resign = new AbortController();
  if (!speaker) {
    navigator.locks
      .request("banter-notifications", { signal: resign.signal }, () => {
        speaker = true;
        return new Promise<void>((release) => resign.signal.addEventListener("abort", () => release()));
      })
      .catch(() => undefined);
  }
  return { isSpeaker: () => speaker, resign: () => resign.abort() };
}

function notify(client: ChatClient, message: Message): void {
  const settings = notificationSettings();
  const current = client.getState();
  const conversation = current.conversations[message.conversation_id];
  if (!conversation || conversation.read_seq >= message.seq) return;
  // Direct messages, and room messages that mention me (still unread).
  const mentioned = conversation.kind === "room" && !!conversation.mentions?.includes(message.seq);
  if (conversation.kind !== "direct" && !mentioned) return;
  if (settings.sound) beep();
  if (!settings.desktop || !canNotify || Notification.permission !== "granted") return;
  const sender = nameOf(current.users[message.sender_id], "Someone");
  const room = current.rooms[conversation.id]?.name ?? conversation.name;
  const title = mentioned ? `${sender} mentioned you in # ${room ?? "a room"}` : sender;
  const shown = new Notification(title, { body: message.body.slice(0, 200), tag: message.id });
  shown.onclick = () => {
    window.focus();
    client.select(conversation.peer?.id ?? conversation.id);
    shown.close();
  };
}

/** Notifies of direct messages, and of mentions in rooms, that arrive while the page is hidden. */
export function useMessageNotifications(client: ChatClient): void {
  useEffect(() => {
    const election = electSpeaker();
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const stop = client.onArrival((message: Message) => {
      if (!election.isSpeaker() || document.visibilityState === "visible") return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (document.visibilityState !== "visible") notify(client, message);
      }, NOTIFY_AFTER_MS);
      timers.add(timer);
    });
    return () => {
      stop();
      election.resign();
      for (const timer of timers) clearTimeout(timer);
    };
  }, [client]);
}

/** The tab's title and icon carry the unread count, so a hidden tab says it. */
export function useUnreadBadge(state: ChatState): void {
  const total = Object.values(state.conversations).reduce((sum, c) => sum + unread(c), 0);
  useEffect(() => {
    document.title = total > 0 ? `(${total}) Banter` : "Banter";
    setFaviconBadge(total);
  }, [total]);
}

let plainIcon: string | null = null;

/** Draws the unread count on the tab's icon (the plain icon when there is nothing unread). */
function setFaviconBadge(count: number): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement("link");
    link.rel = "icon";
    document.head.append(link);
  }
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 32;
  const draw = canvas.getContext("2d");
  if (!draw) return;
  draw.fillStyle = "#2f6fde";
  draw.beginPath();
  draw.roundRect(2, 2, 28, 28, 7);
  draw.fill();
  draw.fillStyle = "#ffffff";
  draw.font = "bold 18px sans-serif";
  draw.textAlign = "center";
  draw.textBaseline = "middle";
  draw.fillText("B", 16, 17);
  plainIcon ??= canvas.toDataURL("image/png");
  if (count > 0) {
    draw.fillStyle = "#c5302b";
    draw.beginPath();
    draw.arc(23, 9, 9, 0, Math.PI * 2);
    draw.fill();
    draw.fillStyle = "#ffffff";
    draw.font = "bold 12px sans-serif";
    draw.fillText(count > 99 ? "99" : String(count), 23, 10);
  }
  link.href = count > 0 ? canvas.toDataURL("image/png") : plainIcon;
  link.dataset.unread = String(count);
}
