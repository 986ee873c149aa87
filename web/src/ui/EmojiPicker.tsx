// The emoji picker beside the composer: emoji-picker-element (a small, well-kept web
// component with search, categories, skin tones and recently used), loaded the first time
// it opens. Its emoji data is served by Banter itself (bundled from emoji-picker-element-data),
// never fetched from a CDN. A popover, not a modal: Escape or a pick closes it, and the
// message box has the focus again. `embedded`, it is part of another popover (a message's
// reactions), which owns the focus and Escape.

import { useEffect, useRef, type KeyboardEvent } from "react";
import dataSource from "emoji-picker-element-data/en/emojibase/data.json?url";

interface Props {
  onPick: (emoji: string) => void;
  onClose: () => void;
  embedded?: boolean;
}

export function EmojiPicker({ onPick, onClose, embedded = false }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  // The newest callbacks, without building the picker again when they change.
  const callbacks = useRef({ onPick, onClose });
  useEffect(() => {
    callbacks.current = { onPick, onClose };
  }, [onPick, onClose]);

  useEffect(() => {
    let picker: HTMLElement | undefined;
    let cancelled = false;
    void import("emoji-picker-element").then(({ Picker }) => {
      if (cancelled || !holder.current) return;
      const element = new Picker({ dataSource, locale: "en" });
      element.addEventListener("emoji-click", (event) => {
        const unicode = event.detail.unicode;
        if (unicode) callbacks.current.onPick(unicode);
      });
      holder.current.appendChild(element);
      picker = element;
      // Its search box, so typing finds an emoji at once.
      if (!embedded) requestAnimationFrame(() => element.shadowRoot?.querySelector<HTMLInputElement>("input")?.focus());
    });
    return () => {
      cancelled = true;
      picker?.remove();
    };
  }, [embedded]);

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      callbacks.current.onClose();
    }
  };

  if (embedded) return <div className="emoji-embedded" ref={holder} />;
  return (
    <div className="emoji-popover" role="dialog" aria-label="Emoji" onKeyDown={onKeyDown} ref={holder} />
  );
}
