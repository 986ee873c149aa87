"""Drives BanterClient against a running server (the test suite starts one): replies
by ref, live messages, a dropped connection resumed without a gap, a send made while
the socket is down resent once, a refusal raised, and a room whose seqs skip a blocked
person's messages read without asking history forever. Exits non-zero on the first
failure.

Environment: BANTER_WS_URL, and ALICE_/BOB_/CAROL_ TOKEN and ID."""

import asyncio
import os
import sys
import uuid

from banter_client import BanterClient, BanterError


async def main() -> None:
    url = os.environ["BANTER_WS_URL"]
    bob_id = os.environ["BOB_ID"]
    carol_id = os.environ["CAROL_ID"]
    async with BanterClient(url, os.environ["ALICE_TOKEN"]) as alice, BanterClient(
        url, os.environ["BOB_TOKEN"]
    ) as bob, BanterClient(url, os.environ["CAROL_TOKEN"]) as carol:
        assert alice.ready["ref"].startswith("py"), alice.ready
        await alice.ping()  # answered `ok`
        hi = await alice.send("hi", to=bob_id)
        got = await bob.next_event("message")
        assert got["message"]["id"] == hi["id"], got
        conversation = hi["conversation_id"]
        await bob.read(conversation, hi["seq"])  # answered `ok`
        assert (await alice.block(bob_id))["id"] == bob_id
        assert (await alice.unblock(bob_id))["id"] == bob_id

        # Bob's connection dies; alice writes meanwhile; bob comes back and misses nothing.
        await bob.drop_connection()
        sent = [await alice.send(f"m{i}", conversation_id=conversation) for i in range(5)]
        bodies = [(await bob.next_event("message", timeout=15))["message"]["body"] for _ in sent]
        assert bodies == [f"m{i}" for i in range(5)], bodies
        assert bob.reconnects == 1, bob.reconnects

        # Alice's connection dies just as she sends: the send waits, is resent, stored once.
        await alice.drop_connection()
        late = await alice.send("after drop", conversation_id=conversation)
        got = await bob.next_event("message", timeout=15)
        assert got["message"]["id"] == late["id"], got

        # A refusal is raised with its code.
        try:
            await alice.send("nowhere", conversation_id=str(uuid.uuid4()))
            raise AssertionError("a send to no conversation was accepted")
        except BanterError as refused:
            assert refused.code == "not_found", refused

        # History agrees with what arrived live.
        seqs = [m["seq"] for m in await bob.history(conversation, after_seq=0)]
        assert seqs == list(range(1, 8)), seqs

        # A room in which bob blocked carol: her message is a hole in bob's seqs.
        asked: list[dict] = []
        request = bob.request

        async def counted(frame: dict) -> dict:
            asked.append(frame)
            return await request(frame)

        bob.request = counted  # type: ignore[method-assign]
        joined = await alice.request({"type": "create_room", "name": f"holes-{uuid.uuid4().hex[:8]}"})
        room = joined["room"]["id"]
        await bob.request({"type": "join_room", "room_id": room})
        await carol.request({"type": "join_room", "room_id": room})
        await bob.block(carol_id)
        await alice.send("r1", conversation_id=room)
        assert (await bob.next_event("message"))["message"]["body"] == "r1"
        await carol.send("hidden from bob", conversation_id=room)
        await alice.send("r3", conversation_id=room)
        await alice.send("r4", conversation_id=room)
        bodies = [(await bob.next_event("message"))["message"]["body"] for _ in range(2)]
        assert bodies == ["r3", "r4"], bodies
        await asyncio.sleep(0.5)
        fills = [f for f in asked if f["type"] == "history" and f["conversation_id"] == room]
        assert len(fills) <= 2, f"bob asked {len(fills)} history pages of the room"
    print("python client: ok")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as failed:
        print(f"python client: FAILED {failed!r}", file=sys.stderr)
        raise
