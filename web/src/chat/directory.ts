// The room directory (protocol v3): every room, by name, read a page at a time with the
// `rooms` request, optionally narrowed to names containing a query. The page keeps what
// the "Browse rooms" dialog shows; `state.ts` folds the answers in through these helpers.
//
// Only the newest request counts. A person types faster than answers come back, so an
// answer whose `ref` is not the newest request's (an older query, a page asked before the
// dialog was reopened) is dropped when it arrives instead of overwriting a newer list.

import type { ErrorCode, Room } from "./protocol";

/** Rooms per page: the server's default (it allows 1–100). */
export const DIRECTORY_PAGE = 50;

/** One page of the directory: a query ("" for every room) and where it starts. */
export interface DirectoryPage {
  query: string;
  /** The name of the last room of the page before; `null` for the first page. */
  after: string | null;
}

/** The newest request: on its way (`ref`), or refused (in words, for a retry). */
export type DirectoryRequest =
  | (DirectoryPage & { status: "loading"; ref: string })
  | (DirectoryPage & { status: "failed"; error: string });

export interface RoomDirectory {
  /** The query the loaded rooms answer. */
  query: string;
  /** Loaded rooms, in directory order (name without case). */
  rooms: Room[];
  /** Whether rooms follow the last loaded one. */
  more: boolean;
  /** Whether a first page has arrived (before that, "no rooms" is not known). */
  loaded: boolean;
  request: DirectoryRequest | null;
}

export const emptyDirectory: RoomDirectory = { query: "", rooms: [], more: false, loaded: false, request: null };

/** A page was asked for (`ref`), or could not be sent (`ref` null: not connected). */
export function directoryAsked(directory: RoomDirectory, page: DirectoryPage, ref: string | null): RoomDirectory {
  const { query, after } = page;
  const request: DirectoryRequest = ref
    ? { query, after, status: "loading", ref }
    : { query, after, status: "failed", error: "Not connected: try again in a moment." };
  return { ...directory, request };
}

/** Whether `ref` is the newest request's, still on its way (any other answer is stale). */
export function awaitsAnswer(directory: RoomDirectory, ref: string | undefined): boolean {
  const asked = directory.request;
  return ref !== undefined && asked?.status === "loading" && asked.ref === ref;
}

/** The answer to a request: kept only when it answers the newest one. */
export function directoryAnswered(
  directory: RoomDirectory,
  ref: string | undefined,
  rooms: Room[],
  more: boolean,
): RoomDirectory {
  const asked = directory.request;
  if (!awaitsAnswer(directory, ref) || !asked) return directory;
  // A first page replaces the list (a new query's, or the same one afresh); a later one
  // extends it.
  const kept = asked.after === null ? [] : directory.rooms;
  const known = new Set(kept.map((r) => r.id));
  return {
    query: asked.query,
    rooms: [...kept, ...rooms.filter((r) => !known.has(r.id))],
    more,
    loaded: true,
    request: null,
  };
}

/** The newest request was refused (see `awaitsAnswer`): kept, with why, for a retry. */
export function directoryRefused(directory: RoomDirectory, code: ErrorCode, message: string): RoomDirectory {
  const asked = directory.request;
  if (!asked) return directory;
  const error =
    code === "rate_limited" ? "Too many searches at once. Wait a moment and retry." : `Could not load rooms: ${message}.`;
  return { ...directory, request: { query: asked.query, after: asked.after, status: "failed", error } };
}

/** A deleted room leaves the list (members hear of it; others at their next page). */
export function directoryWithout(directory: RoomDirectory, roomId: string): RoomDirectory {
  if (!directory.rooms.some((r) => r.id === roomId)) return directory;
  return { ...directory, rooms: directory.rooms.filter((r) => r.id !== roomId) };
}

/** The query whose first page the dialog shows or is about to: asked for, else loaded. */
export function directoryQuery(directory: RoomDirectory): string | null {
  const asked = directory.request;
  if (asked && asked.after === null) return asked.query;
  return directory.loaded ? directory.query : null;
}
