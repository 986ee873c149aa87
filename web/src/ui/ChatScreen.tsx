// The signed-in page: people on the left, the selected conversation in the middle, the
// composer at the bottom. On a phone's width one of the two panes shows at a time.

import { useAuth } from "react-oidc-context";
import { announceSignOut } from "../auth/signOut";
import { ConnectionStatus } from "./ConnectionStatus";
import { Conversation } from "./Conversation";
import { Sidebar } from "./Sidebar";
import { useChat } from "./useChat";

export function ChatScreen() {
  const auth = useAuth();
  const { client, state } = useChat();

  const signOut = () => {
    client.stop();
    announceSignOut();
    void auth.signoutRedirect({ id_token_hint: auth.user?.id_token });
  };

  return (
    <div className={state.selected ? "app chat-open" : "app"}>
      <Sidebar state={state} client={client} onSignOut={signOut} />
      <main className="main" aria-label="Conversation">
        <ConnectionStatus status={state.connection} onRetry={() => client.reconnectNow()} />
        {state.notice && (
          <div className="notice" role="alert">
            <span>{state.notice}</span>
            <button className="link" onClick={() => client.dismissNotice()}>
              Dismiss
            </button>
          </div>
        )}
        {state.selected ? (
          <Conversation key={state.selected} chat={state.selected} state={state} client={client} />
        ) : (
          <div className="empty">
            <p>{state.me ? "Choose someone on the left to start chatting." : "Connecting…"}</p>
          </div>
        )}
      </main>
    </div>
  );
}
