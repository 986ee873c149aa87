// Whether I share read receipts: on, the people I write with see how far I have read (and
// I see theirs); off, nobody's either way. Saved on the server: every window of mine
// follows at once.

import type { ChatClient } from "../chat/client";

export function ReceiptsSwitch({ share, client }: { share: boolean; client: ChatClient }) {
  return (
    <fieldset className="switches">
      <legend>Privacy</legend>
      <label>
        <input
          type="checkbox"
          checked={share}
          onChange={(e) => client.setReceipts(e.target.checked)}
          aria-describedby="receipts-hint"
        />
        Read receipts
      </label>
      <span id="receipts-hint" className="secondary">
        {share ? "Others see how far you have read, and you see theirs." : "Nobody sees how far you have read, and you see nobody's."}
      </span>
    </fieldset>
  );
}
