// @banter/client: a small client for Banter's WebSocket protocol v4 (docs/protocol.md),
// for browsers and Node. The web client is built on it; scripts and load tests can be too.
//
//   const alice = new BanterConnection({ url: "ws://localhost:8080/ws", token });
//   const ready = await alice.open();
//   const message = await alice.send({ to: bobId, body: "hi" });
//   alice.subscribe((event) => { if (event.type === "messages") … });

export * from "./protocol.gen.js";
export { CloseCode, MAX_BODY_CHARS, MAX_HISTORY_PAGE, PROTOCOL_VERSION, parseServerEvent, retryAfterSeconds } from "./protocol.js";
export { BanterError, Closed, SessionLost, TimedOut } from "./errors.js";
export { MessageOrder, type Released } from "./order.js";
export { ChangeTracker } from "./changes.js";
export {
  BanterConnection,
  type ConnectionEvent,
  type ConnectionOptions,
  type ConnectionStatus,
  type Outgoing,
  type Ready,
  type Reply,
  type SessionToken,
  type SocketLike,
  type TokenSource,
} from "./connection.js";
