"""A small asyncio client for Banter's WebSocket protocol v4 (docs/protocol.md).

One `BanterClient` is one window. It does what a careful client must, so a script or a
load test does not have to:

- authenticates (the `auth` frame, its `ref` answered by `ready`) and renews the session
  token before it expires, if given a way to get a fresh one;
- matches every reply to its request by `ref` (`request()` returns the reply, or raises
  `BanterError` for an `error` frame), so any frame can be awaited;
- hands every other frame to `events()` in order, and per conversation releases
  messages in `seq` order, each once, filling gaps with `history`;
- reconnects when the socket drops (with a backoff, and the wait a 1013 close asks
  for), fills what it missed from where its messages stop being contiguous, and
  resends every unacknowledged `send` with its original `client_id` (the server stores
  a retried message once).

Needs the `websockets` package (15.x):

    async with BanterClient("ws://localhost:8080/ws", token) as alice:
        ready = alice.ready
        ack = await alice.send("hi", to=bob_id)
        async for event in alice.events():
            ...
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import uuid
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Union

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

Frame = dict[str, Any]
TokenSource = Union[str, Callable[[], Awaitable[str]]]

#: Close codes after which reconnecting with the same token cannot help.
FINAL_CLOSES = {4401, 4403, 1008}


class BanterError(Exception):
    """An `error` frame answering a request: `code` (docs/protocol.md#error-codes),
    `message`, and for `rate_limited` the `retry_after_ms` the server asks for."""

    def __init__(self, frame: Frame):
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code: str = frame.get("code", "")
        self.message: str = frame.get("message", "")
        self.retry_after_ms: Optional[int] = frame.get("retry_after_ms")


class Closed(Exception):
    """The socket closed for good (a close code reconnecting cannot fix, or `close()`)."""

    def __init__(self, code: Optional[int], reason: str = ""):
        super().__init__(f"closed {code} {reason}".strip())
        self.code = code
        self.reason = reason


class BanterClient:
    def __init__(
        self,
        url: str,
        token: TokenSource,
        *,
        reconnect: bool = True,
        request_timeout: float = 10.0,
    ):
        self.url = url
        self._token = token
        self.reconnect = reconnect
        self.request_timeout = request_timeout
        #: The latest `ready` frame.
        self.ready: Optional[Frame] = None
        self._ws: Optional[ClientConnection] = None
        self._refs = (f"py{n}" for n in itertools.count(1))
        self._waiting: dict[str, asyncio.Future[Frame]] = {}
        # Sends not yet acknowledged, by client_id: resent after a reconnect.
        self._unacked: dict[str, Frame] = {}
        # Per conversation: the last seq released in order, and messages held past a gap.
        self._have: dict[str, int] = {}
        self._held: dict[str, dict[int, Frame]] = {}
        # Conversations with a fill on its way (one at a time each), a few at once.
        self._filling: set[str] = set()
        self._fill_places = asyncio.Semaphore(4)
        self._events: asyncio.Queue[Union[Frame, Closed]] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._reader: Optional[asyncio.Task[None]] = None
        self._renewal: Optional[asyncio.Task[None]] = None
        self._closing = False
        #: How many times the socket was opened again after a drop.
        self.reconnects = 0

    # ---- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> "BanterClient":
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def open(self) -> Frame:
        """Connects and authenticates; returns `ready`."""
        ready = await self._connect_once()
        self._reader = asyncio.create_task(self._read_forever())
        return ready

    async def close(self) -> None:
        self._closing = True
        for task in (self._renewal, self._reader):
            if task:
                task.cancel()
        if self._ws:
            await self._ws.close()
        self._fail_waiting(Closed(1000, "closed by the client"))

    async def drop_connection(self) -> None:
        """Cuts the TCP connection without a close handshake (as a network failure
        would): the client reconnects and resumes. For tests and chaos drills."""
        if self._ws:
            self._ws.transport.abort()

    async def _token_now(self) -> str:
        return self._token if isinstance(self._token, str) else await self._token()

    async def _connect_once(self) -> Frame:
        ws = await connect(self.url, max_size=2**20, open_timeout=self.request_timeout)
        ref = next(self._refs)
        await ws.send(json.dumps({"type": "auth", "ref": ref, "token": await self._token_now()}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), self.request_timeout))
            if frame.get("type") == "ready":
                break
            if frame.get("type") == "error" and frame.get("ref") == ref:
                await ws.close()
                raise BanterError(frame)
        self._ws = ws
        self.ready = frame
        self._track(frame.get("conversations", []))
        self._schedule_renewal(frame.get("expires_at"))
        self._connected.set()
        return frame

    def _track(self, conversations: list[Frame]) -> None:
        """After a `ready` (or a `joined`): conversations seen for the first time start at
        their `last_seq` (their past is `history`'s business); the others keep what we
        have."""
        for c in conversations:
            self._have.setdefault(c["id"], c["last_seq"])

    # ---- reading -----------------------------------------------------------------

    async def _read_forever(self) -> None:
        while not self._closing:
            ws = self._ws
            assert ws is not None
            try:
                async for text in ws:
                    await self._on_frame(json.loads(text))
                code, reason = ws.close_code, ws.close_reason or ""
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                reason = closed.rcvd.reason if closed.rcvd else ""
            if self._closing:
                return
            self._connected.clear()
            self._fail_waiting(Closed(code, reason))
            if not self.reconnect or code in FINAL_CLOSES:
                await self._events.put(Closed(code, reason))
                return
            await self._reconnect(code, reason)

    async def _reconnect(self, code: Optional[int], reason: str) -> None:
        attempt = 0
        while not self._closing:
            wait = min(10.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)
            asked = re.search(r"retry_after=(\d+)", reason or "")
            if code == 1013 and asked:
                wait = max(wait, float(asked.group(1)))
            await asyncio.sleep(wait if attempt or code != 1012 else random.random() / 2)
            attempt += 1
            try:
                await self._connect_once()
            except (OSError, asyncio.TimeoutError, ConnectionClosed, BanterError):
                continue
            self.reconnects += 1
            await self._resume()
            return

    async def _resume(self) -> None:
        """Fills every conversation's gap up to its `last_seq`, then resends what was
        never acknowledged (with its original client_id: stored once)."""
        assert self.ready is not None
        for c in self.ready.get("conversations", []):
            if c["last_seq"] > self._have.get(c["id"], 0):
                self._start_fill(c["id"], at_least=c["last_seq"])
        for frame in list(self._unacked.values()):
            asyncio.create_task(self._resend(frame))

    async def _resend(self, frame: Frame) -> None:
        try:
            await self._send_frame(dict(frame))
        except (BanterError, Closed, asyncio.TimeoutError):
            pass  # a refusal ends it (raised to nobody: the original caller has gone)

    async def _on_frame(self, frame: Frame) -> None:
        ref = frame.get("ref")
        kind = frame.get("type")
        if kind == "ack":
            self._unacked.pop(frame["message"]["client_id"], None)
            self._note_message(frame["message"], deliver=False)
        elif kind == "joined":
            # A room joined now: its messages so far are history's; the ones after, tracked.
            self._track([frame["conversation"]])
        elif kind in ("left", "room_deleted"):
            self._have.pop(frame["room_id"], None)
            self._held.pop(frame["room_id"], None)
        if ref is not None and ref in self._waiting:
            future = self._waiting.pop(ref)
            if not future.done():
                future.set_result(frame)
            return
        if frame.get("type") == "message":
            self._note_message(frame["message"], deliver=True)
            return
        await self._events.put(frame)

    def _note_message(self, message: Frame, deliver: bool) -> None:
        """Releases messages of a conversation in seq order, each once; a gap is held
        and filled with `history`."""
        conversation, seq = message["conversation_id"], message["seq"]
        have = self._have.setdefault(conversation, seq - 1)
        if seq <= have:
            return
        self._held.setdefault(conversation, {}).setdefault(seq, {"message": message, "deliver": deliver})
        self._release(conversation)
        if self._held.get(conversation):
            self._start_fill(conversation)

    def _release(self, conversation: str, through: int = 0) -> None:
        """Releases held messages while contiguous, and up to `through` across the holes
        history accounted for: a room's messages from someone this person blocked (or who
        blocked them) are never delivered nor in `history`, so their seqs never fill."""
        have = self._have.get(conversation, 0)
        held = self._held.get(conversation, {})
        for seq in sorted(held):
            if seq != have + 1 and seq > through:
                break
            event = held.pop(seq)
            have = seq
            if event["deliver"]:
                self._events.put_nowait({"type": "message", "message": event["message"]})
        self._have[conversation] = max(have, through)
        if not held:
            self._held.pop(conversation, None)

    def _start_fill(self, conversation: str, at_least: int = 0) -> None:
        if conversation not in self._filling:
            self._filling.add(conversation)
            asyncio.create_task(self._fill(conversation, at_least))

    async def _fill(self, conversation: str, at_least: int) -> None:
        """Asks for what follows the last message released in order, until caught up.
        A page accounts for every seq up to its last message; a short one (the end) for
        everything held and up to `at_least` (`ready`'s `last_seq`, whose newest seqs may
        be holes). At most four conversations at once; a refusal for the query allowance
        is retried after the wait it names."""
        try:
            async with self._fill_places:
                await self._fill_pages(conversation, at_least)
        finally:
            self._filling.discard(conversation)

    async def _fill_pages(self, conversation: str, at_least: int) -> None:
        me = (self.ready or {}).get("me", {}).get("id")
        while True:
            if conversation not in self._have:
                return  # left meanwhile
            after = self._have[conversation]
            try:
                page = await self.request(
                    {"type": "history", "conversation_id": conversation, "after_seq": after, "limit": 200}
                )
            except BanterError as refused:
                if refused.code != "rate_limited":
                    return
                await asyncio.sleep((refused.retry_after_ms or 1000) / 1000)
                continue
            except (Closed, ConnectionClosed, asyncio.TimeoutError):
                return  # the next reconnect (or the next message) asks again
            if conversation not in self._have:
                return
            messages = page.get("messages", [])
            held = self._held.setdefault(conversation, {})
            for message in messages:
                if message["seq"] > after:
                    # A message this client sent and awaits the `ack` of is no event.
                    mine = message["sender_id"] == me and message["client_id"] in self._unacked
                    held.setdefault(message["seq"], {"message": message, "deliver": not mine})
            last = max([after] + [m["seq"] for m in messages])
            complete = len(messages) < 200
            self._release(conversation, max([last, at_least, *held]) if complete else last)
            if complete:
                return

    def _fail_waiting(self, error: Exception) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()

    async def events(self) -> AsyncIterator[Frame]:
        """Every frame that is not a reply to a request of this client, in order
        (messages per conversation in seq order, each once). Ends when the socket closes
        for good."""
        while True:
            event = await self._events.get()
            if isinstance(event, Closed):
                return
            yield event

    async def next_event(self, kind: Optional[str] = None, timeout: float = 10.0) -> Frame:
        """The next event (of `kind`, skipping others)."""
        async def wait() -> Frame:
            while True:
                event = await self._events.get()
                if isinstance(event, Closed):
                    raise event
                if kind is None or event.get("type") == kind:
                    return event

        return await asyncio.wait_for(wait(), timeout)

    # ---- requests ----------------------------------------------------------------

    async def request(self, frame: Frame) -> Frame:
        """Sends `frame` with a fresh `ref` and returns its reply; an `error` reply
        raises `BanterError`. Waits for the socket if it is reconnecting."""
        return await self._send_frame(dict(frame))

    async def _send_frame(self, frame: Frame) -> Frame:
        await asyncio.wait_for(self._connected.wait(), self.request_timeout)
        ref = next(self._refs)
        frame["ref"] = ref
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = future
        assert self._ws is not None
        try:
            await self._ws.send(json.dumps(frame))
            reply = await asyncio.wait_for(future, self.request_timeout)
        finally:
            self._waiting.pop(ref, None)
        if reply.get("type") == "error":
            raise BanterError(reply)
        return reply

    async def send(
        self,
        body: str,
        *,
        to: Optional[str] = None,
        conversation_id: Optional[str] = None,
        reply_to: Optional[int] = None,
        client_id: Optional[str] = None,
    ) -> Frame:
        """Sends a message; returns it as committed (the `ack`'s message). If the
        socket drops first, the send is resent with the same client_id after the
        reconnect, and this waits for that."""
        frame: Frame = {"type": "send", "client_id": client_id or str(uuid.uuid4()), "body": body}
        if to is not None:
            frame["to"] = to
        if conversation_id is not None:
            frame["conversation_id"] = conversation_id
        if reply_to is not None:
            frame["reply_to"] = reply_to
        self._unacked[frame["client_id"]] = frame
        while True:
            try:
                ack = await self._send_frame(dict(frame))
            except (Closed, ConnectionClosed):
                if not self.reconnect or self._closing:
                    raise
                continue  # resent once the socket is back
            except BanterError:
                self._unacked.pop(frame["client_id"], None)
                raise
            self._unacked.pop(frame["client_id"], None)
            return ack["message"]

    async def history(self, conversation_id: str, **page: Any) -> list[Frame]:
        """A page of history (`after_seq`, `before_seq`, `limit`)."""
        reply = await self.request({"type": "history", "conversation_id": conversation_id, **page})
        return reply["messages"]

    async def read(self, conversation_id: str, seq: int) -> None:
        await self.request({"type": "read", "conversation_id": conversation_id, "seq": seq})

    async def ping(self) -> None:
        """An application heartbeat: returns once the server answers `ok`, in turn behind
        this window's earlier frames (raises `asyncio.TimeoutError` if it does not)."""
        await self.request({"type": "ping"})

    async def block(self, user_id: str) -> Frame:
        return (await self.request({"type": "block", "user_id": user_id}))["user"]

    async def unblock(self, user_id: str) -> Frame:
        return (await self.request({"type": "unblock", "user_id": user_id}))["user"]

    # ---- session renewal ---------------------------------------------------------

    def _schedule_renewal(self, expires_at: Optional[str]) -> None:
        if isinstance(self._token, str) or not expires_at:
            return  # a fixed token cannot be renewed
        if self._renewal:
            self._renewal.cancel()
        expiry = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        left = (expiry - datetime.now(timezone.utc)).total_seconds()
        self._renewal = asyncio.create_task(self._renew_in(max(1.0, left * 0.8)))

    async def _renew_in(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        token = await self._token_now()
        session = await self.request({"type": "auth", "token": token})
        self._schedule_renewal(session.get("expires_at"))
