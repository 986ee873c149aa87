// Searching messages: the box in the left pane, and the results in the main pane with the
// matched words marked. Choosing a result opens its conversation.

import { useState, type FormEvent } from "react";
import type { ChatClient } from "../chat/client";
import { nameOf } from "../chat/names";
import { MessageTime } from "./MessageItem";
import type { SearchHit } from "../chat/protocol";
import type { ChatState } from "../chat/state";

export interface SearchState {
  query: string;
  hits: SearchHit[];
  next: number | null;
  loading: boolean;
  error?: string;
}

export function SearchBox({ onSearch }: { onSearch: (query: string) => void }) {
  const [query, setQuery] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (query.trim()) onSearch(query.trim());
  };
  return (
    <form className="search" role="search" onSubmit={submit}>
      <label htmlFor="search-input" className="visually-hidden">
        Search messages
      </label>
      <input
        id="search-input"
        type="search"
        placeholder="Search messages"
        value={query}
        maxLength={200}
        onChange={(e) => setQuery(e.target.value)}
      />
    </form>
  );
}

interface ResultsProps {
  search: SearchState;
  state: ChatState;
  client: ChatClient;
  onMore: () => void;
  onClose: () => void;
  /** A result was opened: its conversation (by chat key) and the message's seq. */
  onOpen: (chat: string, seq: number) => void;
}

export function SearchResults({ search, state, client, onMore, onClose, onOpen }: ResultsProps) {
  const where = (hit: SearchHit) =>
    hit.conversation.kind === "room"
      ? `# ${hit.conversation.name ?? "room"}`
      : hit.conversation.peer
        ? nameOf(state.users[hit.conversation.peer.id] ?? hit.conversation.peer)
        : "direct chat";
  const who = (hit: SearchHit) => {
    if (hit.message.sender_id === state.me?.id) return "You";
    const sender = state.users[hit.message.sender_id];
    return sender ? nameOf(sender) : where(hit);
  };
  const open = (hit: SearchHit) => {
    const chat = hit.conversation.kind === "direct" && hit.conversation.peer ? hit.conversation.peer.id : hit.conversation.id;
    onOpen(chat, hit.message.seq);
    client.select(chat);
    onClose();
  };
  return (
    <section className="search-results" aria-label={`Search results for ${search.query}`}>
      <header className="conversation-header">
        <h1>Results for “{search.query}”</h1>
        <button className="small" onClick={onClose}>
          Close search
        </button>
      </header>
      <div className="log">
        {search.error && (
          <p className="failure" role="alert">
            {search.error}
          </p>
        )}
        {!search.loading && !search.error && search.hits.length === 0 && <p className="quiet">Nothing found.</p>}
        <ol className="hits">
          {search.hits.map((hit) => (
            <li key={hit.message.id}>
              <button className="hit" onClick={() => open(hit)}>
                <span className="meta">
                  <span className="sender">{who(hit)}</span>
                  <span>in {where(hit)}</span>
                  <MessageTime iso={hit.message.created_at} />
                </span>
                <span className="body">
                  {hit.highlight.map((piece, i) => (piece.match ? <mark key={i}>{piece.text}</mark> : <span key={i}>{piece.text}</span>))}
                </span>
              </button>
            </li>
          ))}
        </ol>
        {search.loading && <p className="quiet">Searching…</p>}
        {search.next !== null && !search.loading && (
          <button className="link" onClick={onMore}>
            More results
          </button>
        )}
      </div>
    </section>
  );
}
