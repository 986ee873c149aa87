// The connection, always visible, in plain words: connected, connecting, reconnecting
// (what happened, a countdown and a way to retry now), or stopped with the reason. While
// not connected the bar stands out, and what the page shows may be out of date (presence
// dots turn grey).

import { useEffect, useState } from "react";
import type { ConnectionStatus as Status } from "../chat/state";

export function ConnectionStatus({ status, onRetry }: { status: Status; onRetry: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (status.kind !== "reconnecting") return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [status.kind]);

  let text: string;
  switch (status.kind) {
    case "connected":
      text = "Connected";
      break;
    case "connecting":
      text = status.reason ? `${status.reason} Connecting…` : "Connecting…";
      break;
    case "reconnecting": {
      const seconds = Math.max(0, Math.ceil((status.retryAt - now) / 1000));
      text = `${status.reason} Reconnecting${seconds > 0 ? ` in ${seconds} s.` : "…"} Messages you write meanwhile are sent once connected.`;
      break;
    }
    case "stopped":
      text = status.reason;
      break;
  }
  return (
    <div className={`connection ${status.kind}`} role="status" aria-live="polite" data-testid="connection">
      <span className="dot" aria-hidden="true" />
      <span>{text}</span>
      {status.kind === "reconnecting" && (
        <button className="link" onClick={onRetry}>
          Retry now
        </button>
      )}
    </div>
  );
}
