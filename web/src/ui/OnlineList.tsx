// Who else is online, like a lazy member list: the whole list (everyone online I may see,
// by email) but my conversation partners, who stay put under "Direct messages" with a
// presence dot, as rows of which only the stretch this window tracks is loaded. While
// filtering, the partners who match lead the list, so a search finds everyone. The list
// is virtualized (only the rows in view are in the page), rows outside the loaded stretch
// are placeholders, and scrolling to them asks the server for their page. A filter box searches everyone online by the start
// of their email.

import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ONLINE_PAGE, type ChatClient } from "../chat/client";
import type { User } from "../chat/protocol";
import { listOffsetOfRow, onlineView, type ChatState } from "../chat/state";
import { PersonRow } from "./PersonRow";
import { useTypedFilter } from "./useTypedFilter";

/** Row heights, in pixels (fixed: the rows are not measured). */
const ROW_PX = 38;
const LABEL_PX = 28;
/** Quiet time after typing in the filter before it is asked for. */
const FILTER_DEBOUNCE_MS = 200;
/** Quiet time after scrolling before a missing page is asked for. */
const PAGE_DEBOUNCE_MS = 150;
/** Rows rendered beyond the visible ones, each side. */
const OVERSCAN = 8;

type Row =
  | { kind: "label"; text: string }
  | { kind: "partner"; user: User }
  | { kind: "person"; user: User; row: number }
  | { kind: "placeholder"; row: number };

interface Props {
  state: ChatState;
  client: ChatClient;
}

export function OnlineList({ state, client }: Props) {
  const [filter, setFilter] = useState("");
  /** The prefix to show: the filter, once typing has paused. */
  const wanted = filter.trim().toLowerCase();
  const connected = state.connection.kind === "connected";
  const scrollRef = useRef<HTMLDivElement>(null);

  // The view reads only the list, the names and who my partners are.
  const { online, users, directByPeer } = state;
  const view = useMemo(() => onlineView({ ...state, online, users, directByPeer }), [online, users, directByPeer]);

  // Typing pauses: apply the filter. Clearing it applies at once.
  const applied = useTypedFilter(wanted, FILTER_DEBOUNCE_MS);

  // The list shows another filter than the one applied (typed, cleared, or reset by a
  // reconnect): ask for the first page of the applied one.
  useEffect(() => {
    if (connected && view.prefix !== applied) client.requestOnline(0, applied);
  }, [client, connected, applied, view.prefix]);

  // A new filter's list starts at its top.
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [view.prefix]);

  const head = useMemo<Row[]>(() => {
    if (view.partners.length === 0 || !view.prefix) return [];
    const rows: Row[] = [{ kind: "label", text: "Your conversations" }];
    for (const user of view.partners) rows.push({ kind: "partner", user });
    if (view.rows > 0) rows.push({ kind: "label", text: "Others matching" });
    return rows;
  }, [view.partners, view.rows, view.prefix]);

  const rowAt = useCallback(
    (index: number): Row => {
      if (index < head.length) return head[index];
      const row = index - head.length;
      const loaded = view.loaded[row - view.first];
      return loaded && row >= view.first ? { kind: "person", user: loaded, row } : { kind: "placeholder", row };
    },
    [head, view.first, view.loaded],
  );
  const getItemKey = useCallback(
    (index: number) => {
      const row = rowAt(index);
      switch (row.kind) {
        case "label":
          return `label:${row.text}`;
        case "partner":
          return `partner:${row.user.id}`;
        case "person":
          return `person:${row.user.id}`;
        case "placeholder":
          return `row:${row.row}`;
      }
    },
    [rowAt],
  );
  const estimateSize = useCallback((index: number) => (rowAt(index).kind === "label" ? LABEL_PX : ROW_PX), [rowAt]);

  const virtualizer = useVirtualizer({
    count: head.length + view.rows,
    getScrollElement: () => scrollRef.current,
    estimateSize,
    getItemKey,
    overscan: OVERSCAN,
    // About the list's most height (see .online-scroll), until it is measured.
    initialRect: { width: 0, height: 360 },
  });
  const items = virtualizer.getVirtualItems();

  // Rows in view (with the overscan) that are not loaded: ask for their page once the
  // scrolling pauses, centred on them.
  const firstShown = Math.max(0, (items[0]?.index ?? 0) - head.length);
  const lastShown = (items[items.length - 1]?.index ?? -1) - head.length;
  const missing =
    lastShown >= firstShown && (firstShown < view.first || lastShown >= view.first + view.loaded.length);
  useEffect(() => {
    if (!connected || !missing || view.prefix !== applied) return;
    const timer = setTimeout(() => {
      const centre = Math.floor((firstShown + lastShown) / 2);
      const offset = listOffsetOfRow(view, centre) - Math.floor(ONLINE_PAGE / 2);
      client.requestOnline(Math.max(0, Math.min(offset, view.count - ONLINE_PAGE)), view.prefix);
    }, PAGE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [client, connected, missing, firstShown, lastShown, view, applied]);

  const shownPartners = head.length ? view.partners.length : 0;
  const setSize = shownPartners + view.rows;
  const nobody = head.length + view.rows === 0;
  const filtering = applied !== "" && view.prefix === applied;

  return (
    <section aria-labelledby="online-heading" className="online">
      <div className="section-head">
        <h2 id="online-heading">Online now</h2>
        <span className="online-count" data-testid="online-count">
          {view.total} online
        </span>
      </div>
      <div className="online-filter">
        <input
          type="search"
          aria-label="Find people online"
          placeholder="Find someone online"
          value={filter}
          maxLength={254}
          onChange={(e) => setFilter(e.target.value)}
          onKeyDown={(e) => e.key === "Escape" && setFilter("")}
        />
      </div>
      {filtering && !nobody && (
        <p className="quiet online-matches" data-testid="online-matches">
          {view.count} {view.count === 1 ? "match" : "matches"}
        </p>
      )}
      {nobody && (
        <p className="quiet">
          {filtering ? `Nobody online has an email starting with “${filter.trim()}”.` : "Nobody else is online."}
        </p>
      )}
      <div className="online-scroll" ref={scrollRef} data-testid="online-scroll" hidden={nobody}>
        <ul aria-label="Online now" className="online-rows" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const row = rowAt(item.index);
            const style = { height: item.size, transform: `translateY(${item.start}px)` };
            switch (row.kind) {
              case "label":
                return (
                  <li key={item.key} className="online-group" style={style} aria-hidden="true">
                    {row.text}
                  </li>
                );
              case "partner":
              case "person":
                return (
                  <PersonRow
                    key={item.key}
                    user={row.user}
                    isOnline
                    state={state}
                    client={client}
                    className={row.kind === "partner" ? "partner" : undefined}
                    style={style}
                    position={{
                      index: row.kind === "partner" ? item.index - 1 : shownPartners + row.row,
                      size: setSize,
                    }}
                  />
                );
              case "placeholder":
                return (
                  <li key={item.key} className="person placeholder" style={style} aria-hidden="true">
                    <span className="presence" />
                    <span className="skeleton" style={{ width: `${45 + ((row.row * 37) % 40)}%` }} />
                  </li>
                );
            }
          })}
        </ul>
      </div>
    </section>
  );
}
