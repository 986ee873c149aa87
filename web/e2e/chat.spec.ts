// Two people in real Chromium against the real server, Postgres and the dev identity
// provider: signing in, the online list (hundreds of people too), chatting, mirrored
// windows, blocking, leaving, a server crash, signing out, session renewal, a phone's
// width, rooms and their directory (dozens of rooms too), and a refused unverified email.

import { Crowd } from "./crowd";
import {
  Person,
  browseRooms,
  chatButton,
  composer,
  directMessages,
  expect,
  messageLog,
  myRooms,
  onlineCount,
  onlineFilter,
  onlineList,
  screenshot,
  scrollOnlineList,
  send,
  test,
} from "./fixtures";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";

test("two people sign in through the provider, see each other online and chat both ways", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE, { screens: "00" });
  const bob = await Person.signIn(browser, server, BOB);
  await screenshot(bob.page, "01-signed-in");

  await expect(onlineList(alice.page).getByText(BOB)).toBeVisible();
  await expect(onlineList(bob.page).getByText(ALICE)).toBeVisible();

  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Hi Bob!");

  // Bob sees one unread message before opening the chat.
  await expect(chatButton(bob.page, ALICE)).toHaveAccessibleName(`Chat with ${ALICE}, 1 unread`);
  await chatButton(bob.page, ALICE).click();
  await expect(messageLog(bob.page, ALICE).getByText("Hi Bob!")).toBeVisible();
  await expect(chatButton(bob.page, ALICE)).toHaveAccessibleName(`Chat with ${ALICE}`);

  // Bob types (Alice sees it) and answers on two lines with Shift+Enter.
  await composer(bob.page).pressSequentially("Hello");
  await expect(alice.page.getByText(`${BOB} is typing…`)).toBeVisible();
  await composer(bob.page).press("Shift+Enter");
  await composer(bob.page).pressSequentially("Alice");
  await composer(bob.page).press("Enter");
  await expect(messageLog(alice.page, BOB).locator(".body", { hasText: "Hello\nAlice" })).toBeVisible();
  await expect(messageLog(bob.page, ALICE).locator(".pending")).toHaveCount(0);
  await screenshot(alice.page, "02-conversation");

  expect(server.query("SELECT string_agg(body, '|' ORDER BY seq) FROM messages")).toBe("Hi Bob!|Hello\nAlice");
});

test("the online list of hundreds of people counts them all, loads as it scrolls, finds anyone, and partners stay put under Direct messages", async ({ browser, server }) => {
  test.setTimeout(240_000);
  const asked: { offset?: number; prefix?: string; limit?: number }[] = [];
  const alice = await Person.signIn(browser, server, ALICE, {
    onPage: (page) =>
      page.on("websocket", (socket) =>
        socket.on("framesent", (frame) => {
          const sent = JSON.parse(String(frame.payload)) as { type: string; offset?: number; prefix?: string; limit?: number };
          if (sent.type === "online") asked.push(sent);
        }),
      ),
  });
  await expect(onlineCount(alice.page)).toHaveText("0 online");
  await expect(alice.page.getByText("Nobody else is online.")).toBeVisible();

  // 300 people come online, each on a socket of their own, and Zed, last in the list.
  const people = Array.from({ length: 300 }, (_, i) => `person-${String(i).padStart(3, "0")}@example.com`);
  const ZED = "zed@example.com";
  const crowd = await Crowd.online(server, [...people, ZED]);
  try {
    const list = onlineList(alice.page);
    // Counted with the changes (or a count-only frame, at most ~10 s apart).
    await expect(onlineCount(alice.page)).toHaveText("301 online", { timeout: 30_000 });
    await expect(list.getByText(people[0], { exact: true })).toBeVisible();
    // Only the rows in view are in the page, not one per person.
    expect(await list.locator("li").count()).toBeLessThan(60);
    await expect(list.getByText(ZED)).toHaveCount(0);
    await screenshot(alice.page, "14-online-list");

    // At the bottom, the rows past the loaded page are asked for, and Zed shows.
    await scrollOnlineList(alice.page, "bottom");
    await expect(list.getByText(ZED)).toBeVisible();
    await expect(list.getByText(people[299], { exact: true })).toBeVisible();
    expect(asked.some((a) => (a.offset ?? 0) > 100 && !a.prefix)).toBe(true);
    expect(asked.every((a) => (a.limit ?? 100) >= 100 && (a.limit ?? 100) <= 200)).toBe(true);
    expect(await list.locator("li").count()).toBeLessThan(60);
    await screenshot(alice.page, "15-online-list-scrolled");
    // And back at the top, the first page again.
    await scrollOnlineList(alice.page, "top");
    await expect(list.getByText(people[0], { exact: true })).toBeVisible();

    // The filter searches everyone online, not just the loaded page (lower case on the wire).
    await onlineFilter(alice.page).fill("PERSON-25");
    await expect(list.getByText(people[259], { exact: true })).toBeVisible();
    await expect(alice.page.getByTestId("online-matches")).toHaveText("10 matches");
    await expect(list.getByRole("button", { name: /^Chat with / })).toHaveCount(10);
    await expect(list.getByText(people[0], { exact: true })).toHaveCount(0);
    await expect(onlineCount(alice.page)).toHaveText("301 online");
    expect(asked.some((a) => a.prefix === "person-25" && (a.offset ?? 0) === 0)).toBe(true);
    await screenshot(alice.page, "16-online-filter");

    // Clicking someone found opens the chat; once they have a conversation, they are a
    // partner: while filtering, listed on top (and only there), though far down the list.
    await chatButton(alice.page, people[257]).click();
    await expect(alice.page.getByRole("heading", { name: people[257] })).toBeVisible();
    await send(alice.page, people[257], "Hello from the top of the list");
    const chats = list.getByRole("button", { name: /^Chat with / });
    // Still filtered: the partner leads the ten matches, listed once.
    await expect(chats.first()).toHaveAccessibleName(`Chat with ${people[257]}`);
    await expect(chats).toHaveCount(10);
    await expect(list.getByText(people[257], { exact: true })).toHaveCount(1);
    await expect(alice.page.getByTestId("online-matches")).toHaveText("10 matches");
    // Clearing the filter brings the first page back; the partner is under Direct
    // messages (online), not in the rest of the list.
    await onlineFilter(alice.page).fill("");
    await expect(list.getByText(people[0], { exact: true })).toBeVisible();
    await expect(list.getByText(people[257], { exact: true })).toHaveCount(0);
    const partner = directMessages(alice.page).getByRole("listitem").filter({ hasText: people[257] });
    await expect(partner.getByTestId("presence")).toHaveText("online");
    await expect(alice.page.getByTestId("online-matches")).toHaveCount(0);
    await expect(onlineCount(alice.page)).toHaveText("301 online");
    await screenshot(alice.page, "17-online-partner-in-direct-messages");

    // The partner goes offline: the same row, in the same place, says so.
    crowd.closeFor(people[257]);
    await expect(partner.getByTestId("presence")).toHaveText("offline");
    await expect(directMessages(alice.page).getByRole("listitem")).toHaveCount(1);
    await expect(onlineCount(alice.page)).toHaveText("300 online", { timeout: 30_000 });
  } finally {
    crowd.close();
  }
});

test("older messages load as the conversation scrolls up", async ({ browser, server }) => {
  const first = await Person.signIn(browser, server, ALICE);
  await Person.signIn(browser, server, BOB);
  const token = server.mintToken(BOB);
  const { users } = await server.api<{ users: { id: string; email: string }[] }>(token, "GET", "/api/users/online");
  const aliceId = users.find((u) => u.email === ALICE)!.id;
  await first.context.close();

  // While Alice is away, Bob writes 70 messages over the HTTP API (paced by the rate
  // limit: a 429 is retried with the same client id, which never makes a second message).
  const conversation = await server.api<{ id: string }>(token, "POST", `/api/direct/${aliceId}`);
  for (let i = 1; i <= 70; i++) {
    const body = { body: `history ${i}`, client_id: `history-${i}` };
    for (let attempt = 0; ; attempt++) {
      try {
        await server.api(token, "POST", `/api/conversations/${conversation.id}/messages`, body);
        break;
      } catch (error) {
        if (attempt > 50 || !String(error).includes("429")) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  // Alice read them elsewhere (another device): opening the chat shows the newest page,
  // not the first unread message.
  await server.api(server.mintToken(ALICE), "POST", `/api/conversations/${conversation.id}/read`, { seq: 70 });
  const alice = await Person.signIn(browser, server, ALICE);
  await expect(chatButton(alice.page, BOB)).toHaveAccessibleName(`Chat with ${BOB}`);
  await chatButton(alice.page, BOB).click();
  const log = messageLog(alice.page, BOB);
  await expect(log.getByText("history 70", { exact: true })).toBeVisible();
  await expect(log.locator(".message")).toHaveCount(50);
  await expect(alice.page.getByText("This is the start of your conversation")).toHaveCount(0);

  await alice.page.locator(".log").evaluate((el) => (el.scrollTop = 0));
  await expect(log.locator(".message")).toHaveCount(70);
  await expect(log.getByText("history 1", { exact: true })).toBeAttached();
  await expect(alice.page.getByText("This is the start of your conversation")).toBeAttached();
  await expect(log.locator(".message .body").first()).toHaveText("history 1");
});

test("a second window of the same person mirrors messages, the selected chat and the draft", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "written before the second window opened");
  const second = await alice.openWindow();
  await expect(chatButton(second, BOB)).toHaveAccessibleName(`Chat with ${BOB}, 1 unread`);

  // Opening the chat in one window opens it, with its history, in the other.
  await chatButton(alice.page, BOB).click();
  await expect(second.getByRole("heading", { name: BOB })).toBeVisible();
  await expect(messageLog(second, BOB).getByText("written before the second window opened")).toBeVisible();
  await expect(chatButton(second, BOB)).toHaveAccessibleName(`Chat with ${BOB}`);

  await composer(alice.page).fill("a draft in progress");
  await expect(composer(second)).toHaveValue("a draft in progress");

  await composer(alice.page).press("Enter");
  await expect(messageLog(second, BOB).getByText("a draft in progress")).toBeVisible();
  await expect(composer(second)).toHaveValue("");

  await send(bob.page, ALICE, "seen in both windows");
  for (const page of alice.windows) {
    await expect(messageLog(page, BOB).getByText("seen in both windows")).toBeVisible();
    await expect(messageLog(page, BOB).locator(".message")).toHaveCount(3);
  }
  await screenshot(second, "03-second-window");
});

test("blocking hides the blocker from every window of the blocked person and refuses their messages", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  const bobSecond = await bob.openWindow();
  await chatButton(bob.page, ALICE).click();
  await expect(bobSecond.getByRole("heading", { name: ALICE })).toBeVisible();

  await alice.page.getByRole("button", { name: `Block ${BOB}` }).click();
  // Blocking asks first; Escape changes nothing.
  const question = alice.page.getByRole("alertdialog", { name: `Block ${BOB}?` });
  await expect(question).toBeVisible();
  await screenshot(alice.page, "05b-block-confirmation");
  await alice.page.keyboard.press("Escape");
  await expect(question).toBeHidden();
  await expect(onlineList(alice.page).getByText(BOB)).toBeVisible();
  await alice.page.getByRole("button", { name: `Block ${BOB}` }).click();
  await question.getByRole("button", { name: "Block" }).click();
  await expect(alice.page.getByRole("list", { name: "Blocked" }).getByText(BOB)).toBeVisible();
  await expect(onlineList(alice.page).getByText(BOB)).toHaveCount(0);
  for (const page of bob.windows) {
    await expect(page.getByText("Nobody else is online.")).toBeVisible();
  }

  await composer(bob.page).fill("are you there?");
  await composer(bob.page).press("Enter");
  await expect(bob.page.getByText("Not sent: one of you has blocked the other.")).toBeVisible();
  await screenshot(bob.page, "04-send-refused");
  expect(server.query("SELECT count(*) FROM messages")).toBe("0");

  await alice.page.getByRole("button", { name: `Unblock ${BOB}` }).click();
  for (const page of bob.windows) {
    await expect(onlineList(page).getByText(ALICE)).toBeVisible();
  }
  await expect(onlineList(alice.page).getByText(BOB)).toBeVisible();

  await bob.page.getByRole("button", { name: "Retry" }).click();
  await expect(messageLog(bob.page, ALICE).locator(".pending")).toHaveCount(0);
  await chatButton(alice.page, BOB).click();
  await expect(messageLog(alice.page, BOB).getByText("are you there?")).toBeVisible();
  expect(server.query("SELECT count(*) FROM messages")).toBe("1");
});

test("closing all of a person's windows takes them off everyone's online list", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  const [first, second] = [alice.page, await alice.openWindow()];

  await first.close();
  // One window is still open: Alice stays online (checked after the close has reached the server).
  await bob.page.waitForTimeout(1500);
  await expect(onlineList(bob.page).getByText(ALICE)).toBeVisible();

  await second.close();
  await expect(onlineList(bob.page).getByText(ALICE)).toHaveCount(0);
  await expect(bob.page.getByText("Nobody else is online.")).toBeVisible();
});

test("the page reconnects after the server is killed and restarted, losing nothing", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "before the crash");
  await chatButton(bob.page, ALICE).click();
  await expect(messageLog(bob.page, ALICE).getByText("before the crash")).toBeVisible();

  await server.kill();
  await expect(alice.page.getByTestId("connection")).toHaveText(/Reconnecting/);
  // Sent while the server is down: shown as sending, then delivered once it is back.
  await composer(alice.page).fill("sent while the server was down");
  await composer(alice.page).press("Enter");
  await expect(messageLog(alice.page, BOB).locator(".pending")).toContainText("Sending…");
  await screenshot(alice.page, "05-reconnecting");

  await server.restart(0);
  for (const person of [alice, bob]) {
    await expect(person.page.getByTestId("connection")).toHaveText(/Connected/, { timeout: 30_000 });
  }
  await expect(messageLog(alice.page, BOB).locator(".pending")).toHaveCount(0);
  await expect(messageLog(bob.page, ALICE).getByText("sent while the server was down")).toBeVisible();
  await send(bob.page, ALICE, "after the restart");
  await expect(messageLog(alice.page, BOB).getByText("after the restart")).toBeVisible();

  for (const [page, peer] of [[alice.page, BOB], [bob.page, ALICE]] as const) {
    await expect(messageLog(page, peer).locator(".message .body")).toHaveText([
      "before the crash",
      "sent while the server was down",
      "after the restart",
    ]);
  }
  expect(server.query("SELECT count(*) FROM messages")).toBe("3");
});

test("signing out in one window signs out every window", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  const second = await alice.openWindow();

  await alice.page.getByRole("button", { name: "Sign out" }).click();
  for (const page of [alice.page, second]) {
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  }
  await expect(onlineList(bob.page).getByText(ALICE)).toHaveCount(0);

  // The provider's session ended too: signing in asks for the email again.
  await alice.page.getByRole("button", { name: "Sign in" }).click();
  await expect(alice.page.getByLabel("Email")).toBeVisible();
});

test.describe("with short sessions", () => {
  test.use({ serverEnv: { SESSION_TTL_SECS: "12" } });

  test("the session token is renewed on the open socket before it expires", async ({ browser, server }) => {
    const received: string[] = [];
    let closed = 0;
    const alice = await Person.signIn(browser, server, ALICE, {
      onPage: (page) =>
        page.on("websocket", (socket) => {
          socket.on("framereceived", (frame) => received.push(String(frame.payload)));
          socket.on("close", () => (closed += 1));
        }),
    });
    const renewals = () => received.filter((f) => f.includes('"type":"session"')).length;
    await expect.poll(renewals, { timeout: 40_000 }).toBeGreaterThanOrEqual(2);
    expect(closed).toBe(0);

    const bob = await Person.signIn(browser, server, BOB);
    await chatButton(alice.page, BOB).click();
    await send(alice.page, BOB, "still signed in");
    await expect(messageLog(bob.page, ALICE)).toHaveCount(0);
    await expect(chatButton(bob.page, ALICE)).toHaveAccessibleName(`Chat with ${ALICE}, 1 unread`);
  });
});

test("the page works at a phone's width", async ({ browser, server }) => {
  const phone = { width: 390, height: 844 };
  const alice = await Person.signIn(browser, server, ALICE, { viewport: phone, screens: "00-phone" });
  await Person.signIn(browser, server, BOB);
  await screenshot(alice.page, "06-phone-people");

  await chatButton(alice.page, BOB).click();
  await expect(alice.page.getByRole("navigation", { name: "People" })).toBeHidden();
  await send(alice.page, BOB, "from my phone");
  await screenshot(alice.page, "07-phone-conversation");

  await alice.page.getByRole("button", { name: "Back to people" }).click();
  await expect(directMessages(alice.page).getByText(BOB)).toBeVisible();
});

test("people create a room with a password, find it in the directory, join it, chat in it, and see it deleted", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);

  await alice.page.getByRole("button", { name: "New room" }).click();
  await alice.page.getByLabel("Room name").fill("Book club");
  await alice.page.getByLabel("Password (optional)").fill("chapter one");
  await screenshot(alice.page, "08-new-room");
  await alice.page.getByRole("button", { name: "Create room" }).click();
  await expect(alice.page.getByRole("heading", { name: "Book club", exact: true })).toBeVisible();

  // Bob is not a member, so the room is not among his rooms (only "general", which every
  // account joins); the directory has it, and its password keeps him out until he has it.
  const rooms = myRooms(bob.page);
  await expect(rooms.getByRole("listitem")).toHaveText(["# general"]);
  const directory = await browseRooms(bob.page);
  const listed = directory.getByRole("listitem").filter({ hasText: "Book club" });
  await expect(listed).toContainText("password required");
  await expect(listed).toContainText("1 member");
  await directory.getByRole("button", { name: "Join Book club" }).click();
  // The password dialog takes over from the directory, with the focus.
  await expect(directory).toBeHidden();
  await expect(bob.page.getByLabel("Password")).toBeFocused();
  await bob.page.getByLabel("Password").fill("chapter two");
  await bob.page.getByRole("button", { name: "Join", exact: true }).click();
  await expect(bob.page.getByRole("dialog").getByText("Wrong password.")).toBeVisible();
  await bob.page.getByLabel("Password").fill("chapter one");
  await bob.page.getByRole("button", { name: "Join", exact: true }).click();
  // The dialog ("Join Book club") closes once the password is checked.
  await expect(bob.page.getByRole("dialog")).toBeHidden();
  await expect(bob.page.getByRole("heading", { name: "Book club", exact: true })).toBeVisible();
  await expect(rooms.getByText("# Book club")).toBeVisible();

  await send(bob.page, "Book club", "Who has read it?");
  await chatButtonForRoom(alice.page, "Book club").click();
  const aliceLog = messageLog(alice.page, "Book club");
  await expect(aliceLog.locator(".message", { hasText: "Who has read it?" })).toContainText(BOB);
  await send(alice.page, "Book club", "Me!");
  await expect(messageLog(bob.page, "Book club").getByText("Me!")).toBeVisible();

  await bob.page.getByRole("button", { name: /^Members/ }).click();
  const members = bob.page.getByRole("list", { name: "Members of Book club" });
  await expect(members.getByText(ALICE)).toBeVisible();
  await expect(members.getByText(BOB)).toBeVisible();
  await screenshot(bob.page, "09-room");

  await alice.page.getByRole("button", { name: "Delete room" }).click();
  await alice.page.getByRole("alertdialog", { name: "Delete Book club?" }).getByRole("button", { name: "Delete room" }).click();
  await expect(bob.page.getByText("The room “Book club” was deleted.")).toBeVisible();
  await expect(rooms.getByText("# Book club")).toHaveCount(0);
  expect(server.query("SELECT count(*) FROM messages")).toBe("0");
});

function chatButtonForRoom(page: import("@playwright/test").Page, name: string) {
  return page.getByRole("button", { name: new RegExp(`^Open room ${name}`) });
}

test("the room directory pages through every room, finds one by part of its name and joins it", async ({ browser, server }) => {
  test.setTimeout(180_000);
  // 60 rooms over the HTTP API, made by six people: each may create 10 a minute.
  const names = Array.from({ length: 60 }, (_, i) => `Topic ${String(i + 1).padStart(2, "0")}`);
  await Promise.all(
    Array.from({ length: 6 }, async (_, creator) => {
      const token = await server.mintTokenAsync(`creator-${creator}@example.com`);
      for (const name of names.slice(creator * 10, creator * 10 + 10)) {
        await server.api(token, "POST", "/api/rooms", name === "Topic 05" ? { name, password: "secret" } : { name });
      }
    }),
  );

  const asked: { query?: string; after?: string; limit?: number }[] = [];
  const bob = await Person.signIn(browser, server, BOB, {
    onPage: (page) =>
      page.on("websocket", (socket) =>
        socket.on("framesent", (frame) => {
          const sent = JSON.parse(String(frame.payload)) as { type: string; query?: string; after?: string; limit?: number };
          if (sent.type === "rooms") asked.push(sent);
        }),
      ),
  });
  // None of them is Bob's, so none is in his sidebar: only "general", which every account joins.
  await expect(myRooms(bob.page).getByRole("listitem")).toHaveText(["# general"]);

  // The dialog holds the focus: it starts in the search box, Tab goes round inside it,
  // and Escape closes it with the focus back on the button that opened it.
  const browse = bob.page.getByRole("button", { name: "Browse rooms" });
  let directory = await browseRooms(bob.page);
  await expect(directory).toHaveAttribute("aria-modal", "true");
  const search = directory.getByRole("searchbox", { name: "Search rooms" });
  const rows = directory.getByRole("listitem");
  const close = directory.getByRole("button", { name: "Close" });
  const loadMore = directory.getByRole("button", { name: "Load more" });
  await expect(search).toBeFocused();
  await expect(rows).toHaveCount(50);
  await bob.page.keyboard.press("Shift+Tab");
  await expect(close).toBeFocused();
  await bob.page.keyboard.press("Shift+Tab");
  await expect(loadMore).toBeFocused();
  await bob.page.keyboard.press("Tab");
  await expect(close).toBeFocused();
  await bob.page.keyboard.press("Escape");
  await expect(directory).toBeHidden();
  await expect(browse).toBeFocused();

  // The first page: 50 rooms by name ("general", which all seven people are in, first),
  // with their locks and members.
  directory = await browseRooms(bob.page);
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText("general");
  await expect(rows.first()).toContainText("7 members");
  await expect(rows.nth(1)).toContainText("Topic 01");
  await expect(rows.last()).toContainText("Topic 49");
  await expect(rows.filter({ hasText: "Topic 05" })).toContainText("password required");
  await expect(rows.filter({ hasText: "Topic 06" })).not.toContainText("password required");
  await expect(rows.nth(1)).toContainText("1 member");
  await screenshot(bob.page, "18-room-directory");

  // The rest follow the last room of the page.
  await loadMore.click();
  await expect(rows).toHaveCount(61);
  await expect(rows.last()).toContainText("Topic 60");
  await expect(loadMore).toHaveCount(0);
  expect(asked.some((a) => a.after === "Topic 49")).toBe(true);

  // A search finds a room by part of its name, whatever the case, and joins it.
  await search.fill("topic 57");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Topic 57");
  await screenshot(bob.page, "19-room-directory-search");
  expect(asked.some((a) => a.query === "topic 57" && a.after === undefined)).toBe(true);
  expect(asked.every((a) => (a.limit ?? 50) <= 100)).toBe(true);
  await directory.getByRole("button", { name: "Join Topic 57" }).click();
  await expect(directory).toBeHidden();
  await expect(bob.page.getByRole("heading", { name: "Topic 57", exact: true })).toBeVisible();
  await expect(myRooms(bob.page).getByRole("listitem")).toHaveText(["# general", "# Topic 57"]);
  await expect(myRooms(bob.page).getByRole("button", { name: "Open room Topic 57" })).toHaveAttribute("aria-current", "true");
  await send(bob.page, "Topic 57", "Hello, Topic 57");

  // Back in the directory it is one of Bob's: it opens, and counts him.
  directory = await browseRooms(bob.page);
  await search.fill("57");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("2 members");
  await directory.getByRole("button", { name: "Open Topic 57" }).click();
  await expect(directory).toBeHidden();
  await expect(bob.page.getByRole("heading", { name: "Topic 57", exact: true })).toBeVisible();
});

test("a room deleted by its creator leaves its members' sidebars and the directory", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await alice.page.getByRole("button", { name: "New room" }).click();
  await alice.page.getByLabel("Room name").fill("Film night");
  await alice.page.getByRole("button", { name: "Create room" }).click();
  await expect(alice.page.getByRole("heading", { name: "Film night", exact: true })).toBeVisible();

  const directory = await browseRooms(bob.page);
  await directory.getByRole("button", { name: "Join Film night" }).click();
  await expect(directory).toBeHidden();
  await send(bob.page, "Film night", "Popcorn is ready");
  // Bob moves on to another chat: the room is only in his sidebar when it goes.
  await chatButton(bob.page, ALICE).click();
  await expect(bob.page.getByRole("heading", { name: ALICE })).toBeVisible();
  await expect(myRooms(bob.page).getByRole("button", { name: "Open room Film night" })).toBeVisible();

  await alice.page.getByRole("button", { name: "Delete room" }).click();
  await alice.page.getByRole("alertdialog", { name: "Delete Film night?" }).getByRole("button", { name: "Delete room" }).click();
  // Only "general", which every account joins, is left.
  for (const page of [alice.page, bob.page]) {
    await expect(myRooms(page).getByRole("listitem")).toHaveText(["# general"]);
  }
  // Bob was not in it when it went: nothing to tell him.
  await expect(bob.page.getByRole("alert")).toHaveCount(0);
  const after = await browseRooms(bob.page);
  await expect(after.getByRole("listitem")).toHaveCount(1);
  await expect(after.getByRole("listitem")).toContainText("general");
  await screenshot(bob.page, "20-room-directory-empty");
});

test("searching finds a message with the words marked and opens its conversation", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Lunch at the noodle place?");
  await send(bob.page, ALICE, "Or somewhere else");

  await alice.page.getByRole("searchbox", { name: "Search messages" }).fill("noodle");
  await alice.page.getByRole("searchbox", { name: "Search messages" }).press("Enter");
  const results = alice.page.getByRole("region", { name: "Search results for noodle" });
  await expect(results.locator("mark")).toHaveText(["noodle"]);
  await expect(results.getByRole("button")).toHaveCount(2); // the hit and "Close search"
  await screenshot(alice.page, "10-search");

  await results.getByRole("button", { name: /Lunch at the noodle place/ }).click();
  await expect(alice.page.getByRole("heading", { name: BOB })).toBeVisible();
  await expect(messageLog(alice.page, BOB).getByText("Or somewhere else")).toBeVisible();
});

test("a reply quotes the message it answers for both people", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Dinner at eight?");
  await send(alice.page, BOB, "Or nine");

  await chatButton(bob.page, ALICE).click();
  const question = messageLog(bob.page, ALICE).locator(".message", { hasText: "Dinner at eight?" });
  await question.hover();
  await question.getByRole("button", { name: /^Reply to/ }).click();
  await expect(bob.page.getByText(`Replying to ${ALICE}`)).toBeVisible();
  await send(bob.page, ALICE, "Eight works");

  for (const [page, peer] of [[bob.page, ALICE], [alice.page, BOB]] as const) {
    const reply = messageLog(page, peer).locator(".message", { hasText: "Eight works" });
    await expect(reply.locator("blockquote")).toContainText("Dinner at eight?");
  }
  await screenshot(alice.page, "11-reply");
});

test("the API page renders the server's OpenAPI document without loading anything from elsewhere", async ({ browser, server }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  const foreign: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(server.url)) foreign.push(request.url());
  });
  await page.goto(`${server.url}/api-docs.html`);
  await expect(page.getByRole("heading", { name: /Banter HTTP API/ })).toBeVisible();
  await expect(page.getByText("/api/rooms/{id}/join")).toBeVisible();
  await expect(page.getByText("/api/search")).toBeVisible();
  await screenshot(page, "12-api-page");
  expect(problems).toEqual([]);
  expect(foreign).toEqual([]);
  await context.close();
});

test("an address the provider has not verified is refused, with the reason on the sign-in screen", async ({ browser, server }) => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.getByRole("button", { name: "Sign in" }).click();
  // The dev provider marks +unverified addresses email_verified: false.
  await page.getByLabel("Email").fill("eve+unverified@example.com");
  await page.getByRole("button", { name: "Sign in" }).click();

  await expect(page.getByRole("alert")).toContainText("Your email address is not verified yet");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await screenshot(page, "13-email-unverified");
  expect(server.query("SELECT count(*) FROM users")).toBe("0");
  await context.close();
});
