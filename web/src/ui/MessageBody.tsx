// A message's text as the page shows it: links made clickable (linkify finds them), a
// small formatting subset, `code`, ```code blocks```, **bold** and *italic* (or _italic_),
// and @mentions shown as the person's name (marked when they are mine; the names come
// from the MentionNames context).
// Everything becomes React elements from the text: no HTML is ever parsed, so a message
// cannot inject markup, and a link opens only http(s) addresses, in a new tab.

import Linkify from "linkify-react";
import { createContext, useContext, type ReactNode } from "react";
import { MENTION } from "../chat/mentions";

/** Who an @mention's email is: the name to show, and whether it is me (else unknown). */
export type MentionLookup = (email: string) => { name: string; me: boolean } | undefined;

export const MentionNames = createContext<MentionLookup>(() => undefined);

function Mention({ email }: { email: string }) {
  const found = useContext(MentionNames)(email.toLowerCase());
  return (
    <span className={found?.me ? "mention me" : "mention"} title={email}>
      @{found?.name ?? email}
    </span>
  );
}

const LINKS = {
  target: "_blank",
  rel: "noopener noreferrer nofollow",
  defaultProtocol: "https",
  validate: { url: (value: string) => /^(https?:\/\/|www\.|[^:/]+\.[a-z]{2,})/i.test(value) },
};

/** One formatted stretch: the first match of any of these, left to right. */
const INLINE = new RegExp(
  `(\`[^\`\\n]+\`)|(\\*\\*[^*\\n]+\\*\\*)|(\\*[^*\\s][^*\\n]*\\*)|(\\b_[^_\\s][^_\\n]*_\\b)|(${MENTION.source})`,
);

function inline(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  let rest = text;
  let n = 0;
  while (rest) {
    const match = INLINE.exec(rest);
    if (!match) {
      out.push(<Linkify key={`${key}t${n}`} options={LINKS}>{rest}</Linkify>);
      break;
    }
    if (match.index > 0) {
      out.push(<Linkify key={`${key}t${n}`} options={LINKS}>{rest.slice(0, match.index)}</Linkify>);
    }
    const token = match[0];
    const k = `${key}f${n}`;
    if (match[1]) out.push(<code key={k}>{token.slice(1, -1)}</code>);
    else if (match[5]) out.push(<Mention key={k} email={match[6]} />);
    else if (match[2]) out.push(<strong key={k}>{inline(token.slice(2, -2), k)}</strong>);
    else out.push(<em key={k}>{inline(token.slice(1, -1), k)}</em>);
    rest = rest.slice(match.index + token.length);
    n += 1;
  }
  return out;
}

export function MessageBody({ text }: { text: string }) {
  // Code blocks first: nothing inside them is formatted or linked.
  const parts = text.split(/```\n?([\s\S]*?)```/);
  return (
    <>
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          <pre key={i} className="code-block">
            <code>{part.replace(/\n$/, "")}</code>
          </pre>
        ) : (
          <span key={i}>{inline(part, String(i))}</span>
        ),
      )}
    </>
  );
}
