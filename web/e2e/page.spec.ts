// The page as a newcomer meets it, in real Chromium against the real server: an empty
// room, many unread messages, a frozen server, dialogs and the keyboard, a touchscreen,
// search results, dates and groups, links and formatting, confirmations, the tab's title,
// and axe-core's accessibility checks on each main screen.

import {
  Person,
  accessibilityViolations,
  browseRooms,
  chatButton,
  composer,
  expect,
  messageLog,
  onlineList,
  screenshot,
  send,
  sendMany,
  test,
} from "./fixtures";

const ALICE = "alice@example.com";
const BOB = "bob@example.com";

test("a new room starts at its beginning, and the New room dialog holds the keyboard", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const page = alice.page;
  const opener = page.getByRole("button", { name: "New room" });
  await opener.click();
  const dialog = page.getByRole("dialog", { name: "New room" });
  const name = dialog.getByRole("textbox", { name: "Room name" });
  await expect(name).toBeFocused();

  // Tab goes round the dialog's own controls, never to the page behind it.
  await page.keyboard.press("Tab");
  await expect(dialog.getByLabel("Password (optional)")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(dialog.getByRole("button", { name: "Create room" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(name).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(dialog.getByRole("button", { name: "Create room" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  await opener.click();
  await name.fill("Quiet corner");
  await dialog.getByRole("button", { name: "Create room" }).click();
  await expect(page.getByRole("heading", { name: "Quiet corner" })).toBeVisible();
  await expect(page.getByText("This is the start of Quiet corner.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Load earlier messages" })).toHaveCount(0);
  expect(await accessibilityViolations(page)).toEqual([]);
});

test("with more unread messages than a page, the New messages line sits at the first unread one", async ({ browser, server }) => {
  test.setTimeout(150_000);
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Already read");
  await chatButton(alice.page, BOB).click();
  await expect(messageLog(alice.page, BOB).getByText("Already read")).toBeVisible();
  // Alice looks elsewhere while Bob writes more than one page (50) of messages.
  await alice.page.getByRole("button", { name: "New room" }).click();
  await alice.page.getByRole("textbox", { name: "Room name" }).fill("Elsewhere");
  await alice.page.getByRole("button", { name: "Create room" }).click();
  await expect(alice.page.getByRole("heading", { name: "Elsewhere" })).toBeVisible();
  await sendMany(bob.page, ALICE, "Unread", 70);
  await expect(chatButton(alice.page, BOB)).toHaveAccessibleName(`Chat with ${BOB}, 70 unread`);
  // The tab's title counts them.
  await expect(alice.page).toHaveTitle("(70) Banter");

  await chatButton(alice.page, BOB).click();
  const log = messageLog(alice.page, BOB);
  const separator = log.getByTestId("unread-separator");
  await expect(separator).toBeVisible();
  await expect(separator).toBeInViewport();
  // The line comes right before "Unread 1", and "Already read" is above it.
  const next = separator.locator("xpath=following-sibling::li[1]");
  await expect(next.locator(".body")).toHaveText("Unread 1");
  const before = separator.locator("xpath=preceding-sibling::li[contains(@class,'message')][1]");
  await expect(before.locator(".body")).toHaveText("Already read");
  await expect(alice.page).toHaveTitle("Banter");
  await screenshot(alice.page, "30-first-unread");

  // Scrolled to the end, a button jumps back to the first unread message.
  await log.evaluate((el) => el.closest(".log")!.scrollTo({ top: 1e9 }));
  await alice.page.getByRole("button", { name: "Jump to first unread" }).click();
  await expect(separator).toBeInViewport();
});

test("a frozen server is noticed within seconds, presence greys out, and the page reconnects when it answers", async ({ browser, server }) => {
  test.setTimeout(120_000);
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Before the freeze");
  await expect(alice.page.locator(".presence.on").first()).toBeVisible();

  server.freeze();
  try {
    const status = alice.page.getByTestId("connection");
    await expect(status).not.toHaveText(/Connected/, { timeout: 20_000 });
    await expect(status).toContainText("The server stopped answering.");
    await expect(alice.page.locator(".app")).toHaveClass(/disconnected/);
    const dot = alice.page.locator(".person .presence.on").first();
    const grey = await dot.evaluate((el) => getComputedStyle(el).backgroundColor);
    const green = await alice.page.evaluate(() => {
      const probe = document.createElement("span");
      probe.className = "presence on";
      document.body.append(probe);
      const colour = getComputedStyle(probe).backgroundColor;
      probe.remove();
      return colour;
    });
    expect(grey).not.toBe(green);
    await composer(alice.page).fill("Written while frozen");
    await composer(alice.page).press("Enter");
    await expect(messageLog(alice.page, BOB).locator(".pending")).toContainText("Written while frozen");
    await screenshot(alice.page, "31-outage");
  } finally {
    server.thaw();
  }

  await expect(alice.page.getByTestId("connection")).toHaveText(/Connected/, { timeout: 20_000 });
  await expect(alice.page.locator(".app")).not.toHaveClass(/disconnected/);
  await expect(messageLog(alice.page, BOB).locator(".pending")).toHaveCount(0);
  await chatButton(bob.page, ALICE).click();
  await expect(messageLog(bob.page, ALICE).getByText("Written while frozen")).toBeVisible();
  expect(server.query("SELECT count(*) FROM messages WHERE body = 'Written while frozen'")).toBe("1");
});

test("the message log is one Tab stop that arrow keys move through, and Reply shows on a touchscreen", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB, { viewport: { width: 390, height: 800 }, touch: true });
  await chatButton(alice.page, BOB).click();
  for (const text of ["One", "Two", "Three", "Four"]) await send(alice.page, BOB, text);

  // Keyboard: one message and its Reply button are in the Tab order, whatever the count.
  const log = messageLog(alice.page, BOB);
  await expect(log.locator('[tabindex="0"]')).toHaveCount(2);
  const last = log.locator(".message", { hasText: "Four" });
  await last.focus();
  await alice.page.keyboard.press("ArrowUp");
  const third = log.locator(".message", { hasText: "Three" });
  await expect(third).toBeFocused();
  await expect(third.getByRole("button", { name: /^Reply to/ })).toBeVisible();
  await alice.page.keyboard.press("r");
  await expect(alice.page.getByText("Replying to You")).toBeVisible();
  await expect(composer(alice.page)).toBeFocused();

  // A skip link, the page's first Tab stop, leads to the message box.
  const skip = alice.page.getByRole("link", { name: "Skip to the message box" });
  const firstStop = await alice.page.evaluate(
    () => document.querySelector<HTMLElement>("a[href], button, input, textarea, [tabindex='0']")?.textContent,
  );
  expect(firstStop).toBe("Skip to the message box");
  await skip.focus();
  await expect(skip).toBeInViewport();
  await skip.press("Enter");
  await expect(composer(alice.page)).toBeFocused();

  // Touch: Reply is there without hovering.
  await chatButton(bob.page, ALICE).click();
  const message = messageLog(bob.page, ALICE).locator(".message", { hasText: "Two" });
  const reply = message.getByRole("button", { name: /^Reply to/ });
  await expect(reply).toBeVisible();
  await reply.tap();
  await expect(bob.page.getByText(`Replying to ${ALICE}`)).toBeVisible();
  await screenshot(bob.page, "32-phone-touch");
});

test("opening a search result scrolls to the message and marks it", async ({ browser, server }) => {
  test.setTimeout(150_000);
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Lunch at the noodle place?");
  await sendMany(bob.page, ALICE, "Filler", 80);

  await alice.page.getByRole("searchbox", { name: "Search messages" }).fill("noodle");
  await alice.page.getByRole("searchbox", { name: "Search messages" }).press("Enter");
  const results = alice.page.getByRole("region", { name: "Search results for noodle" });
  await results.getByRole("button", { name: /Lunch at the noodle place/ }).click();
  const hit = messageLog(alice.page, BOB).locator(".message", { hasText: "Lunch at the noodle place?" });
  await expect(hit).toBeInViewport();
  await expect(hit).toHaveClass(/highlighted/);
  await screenshot(alice.page, "33-search-result-opened");
  await expect(hit).not.toHaveClass(/highlighted/, { timeout: 10_000 });
});

test("days are separated, older messages carry their date, recent ones how long ago, one sender's run shares a header, and links work", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "From three days ago");
  await send(alice.page, BOB, "Today, first");
  // Sent as typed; shown formatted (so `send`, which waits for the text, does not fit).
  await composer(alice.page).fill("Today, **second** with https://example.com/page and `code`");
  await composer(alice.page).press("Enter");
  await expect(messageLog(alice.page, BOB).locator(".message:not(.pending)")).toHaveCount(3);
  server.query("UPDATE messages SET created_at = now() - interval '3 days' WHERE body = 'From three days ago'");

  // Bob's page on a clock the test can move (it runs at the real pace meanwhile).
  await bob.page.clock.install();
  await bob.page.reload();
  await chatButton(bob.page, ALICE).click();
  const log = messageLog(bob.page, ALICE);
  const days = log.getByTestId("day-separator");
  await expect(days).toHaveCount(2);
  await expect(days.nth(1)).toHaveText("Today");
  await expect(days.nth(0)).not.toHaveText(/Today|Yesterday/);

  const old = log.locator(".message", { hasText: "From three days ago" });
  const oldTime = old.locator("time");
  const threeDaysAgo = await bob.page.evaluate(() =>
    new Date(Date.now() - 3 * 86_400_000).toLocaleDateString([], { day: "numeric", month: "short" }),
  );
  await expect(oldTime).toContainText(threeDaysAgo);
  await expect(oldTime).toHaveAttribute("title", /\d{4}/);

  // "Today, first" starts a header (a new day); "second" continues it.
  const first = log.locator(".message", { hasText: "Today, first" });
  const second = log.locator(".message", { hasText: "second" });
  await expect(first).not.toHaveClass(/grouped/);
  await expect(first.locator(".sender")).toBeVisible();
  // Written moments ago: said so, the full date in the tooltip; 20 minutes later, so.
  await expect(first.locator("time")).toHaveText("just now");
  await expect(first.locator("time")).toHaveAttribute("title", /\d{4}/);
  await bob.page.clock.fastForward("20:00");
  await expect(first.locator("time")).toHaveText(/20/);
  await expect(second).toHaveClass(/grouped/);
  await expect(second.locator(".meta")).toHaveClass(/visually-hidden/);
  // The log is a list of its messages and lines: two days, three messages, and the
  // unread line (Bob has read none of them).
  await expect(log.getByRole("list", { name: "Messages" }).getByRole("listitem")).toHaveCount(6);

  await expect(second.locator("strong")).toHaveText("second");
  await expect(second.locator("code")).toHaveText("code");
  const link = second.getByRole("link", { name: "https://example.com/page" });
  await expect(link).toHaveAttribute("href", "https://example.com/page");
  await expect(link).toHaveAttribute("target", "_blank");
  await screenshot(bob.page, "34-days-groups-links");
  expect(await accessibilityViolations(bob.page)).toEqual([]);
});

test("leaving a room asks first, and blocking works from a conversation with someone offline", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Bye for now");
  await bob.context.close();
  await expect(onlineList(alice.page).getByText(BOB)).toHaveCount(0);

  // Bob is offline; his conversation is still there, and he can be blocked from it.
  await chatButton(alice.page, BOB).click();
  await alice.page.getByRole("button", { name: "Block", exact: true }).click();
  const question = alice.page.getByRole("alertdialog", { name: `Block ${BOB}?` });
  await expect(question.getByRole("button", { name: "Cancel" })).toBeFocused();
  expect(await accessibilityViolations(alice.page)).toEqual([]);
  await question.getByRole("button", { name: "Block" }).click();
  await expect(alice.page.getByRole("list", { name: "Blocked" }).getByText(BOB)).toBeVisible();
  expect(server.query("SELECT count(*) FROM blocks")).toBe("1");

  await alice.page.getByRole("button", { name: "New room" }).click();
  await alice.page.getByRole("textbox", { name: "Room name" }).fill("Book club");
  await alice.page.getByRole("button", { name: "Create room" }).click();
  // A room's messages: one sender's run under one header, under the day's line.
  await send(alice.page, "Book club", "First chapter done");
  await send(alice.page, "Book club", "Second one tonight");
  const log = messageLog(alice.page, "Book club");
  await expect(log.getByTestId("day-separator")).toHaveText("Today");
  await expect(log.locator(".message", { hasText: "Second one tonight" })).toHaveClass(/grouped/);
  await screenshot(alice.page, "35a-room-grouped-messages");
  await alice.page.getByRole("button", { name: "Leave room" }).click();
  const leave = alice.page.getByRole("alertdialog", { name: "Leave Book club?" });
  await expect(leave).toBeVisible();
  await screenshot(alice.page, "35-leave-confirmation");
  await leave.getByRole("button", { name: "Cancel" }).click();
  await expect(alice.page.getByRole("heading", { name: "Book club" })).toBeVisible();
  await alice.page.getByRole("button", { name: "Leave room" }).click();
  await leave.getByRole("button", { name: "Leave room" }).click();
  await expect(alice.page.getByRole("heading", { name: "Book club" })).toHaveCount(0);
});

test("the main screens pass axe-core's checks at desktop and phone widths, light and dark", async ({ browser, server }) => {
  // Four sign-ins and a dozen axe scans: about 40 s a round on a busy two-core machine.
  test.setTimeout(300_000);
  const bob = await Person.signIn(browser, server, BOB);
  for (const [width, colorScheme] of [[1200, "light"], [1200, "dark"], [390, "light"], [390, "dark"]] as const) {
    const alice = await Person.signIn(browser, server, ALICE, { viewport: { width, height: 800 }, colorScheme });
    const page = alice.page;
    const name = `36-main-${width}-${colorScheme}`;
    // The chat chosen in an earlier window is open again (it is mirrored): at a phone's
    // width that hides the people, so go back to them.
    const back = page.getByRole("button", { name: "Back to people" });
    if (width < 720 && (await back.isVisible())) await back.click();
    expect(await accessibilityViolations(page), `${name}: the people list`).toEqual([]);
    await screenshot(page, `${name}-people`);
    await chatButton(page, BOB).click();
    await send(page, BOB, `Hello from ${width} ${colorScheme}`);
    expect(await accessibilityViolations(page), `${name}: a conversation`).toEqual([]);
    await screenshot(page, `${name}-conversation`);
    if (width > 720) {
      const directory = await browseRooms(page);
      expect(await accessibilityViolations(page), `${name}: the room directory`).toEqual([]);
      await page.keyboard.press("Escape");
      await expect(directory).toBeHidden();
      await page.getByRole("searchbox", { name: "Search messages" }).fill("Hello");
      await page.getByRole("searchbox", { name: "Search messages" }).press("Enter");
      await expect(page.getByRole("region", { name: "Search results for Hello" }).locator("mark").first()).toBeVisible();
      expect(await accessibilityViolations(page), `${name}: search results`).toEqual([]);
    }
    await alice.context.close();
  }
  await bob.context.close();
});

/**
 * Records the desktop notifications a window shows, and lets the test say whether the
 * window is hidden (a headless browser's windows are always visible): the operating
 * system's side of the Notification API and of page visibility.
 */
async function watchNotifications(page: import("@playwright/test").Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { shown: { title: string; body: string; tag: string }[]; hidden: boolean };
    w.shown = [];
    w.hidden = false;
    Object.defineProperty(document, "visibilityState", { get: () => (w.hidden ? "hidden" : "visible") });
    const Real = window.Notification;
    class Recorded extends Real {
      constructor(title: string, options: NotificationOptions = {}) {
        super(title, options);
        w.shown.push({ title, body: options.body ?? "", tag: options.tag ?? "" });
      }
    }
    Object.defineProperty(window, "Notification", { value: Recorded });
  });
}

async function hide(page: import("@playwright/test").Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { hidden: boolean }).hidden = true;
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

const shownIn = (page: import("@playwright/test").Page) =>
  page.evaluate(() => (window as unknown as { shown: { title: string; body: string }[] }).shown);

test("a direct message to a hidden tab notifies once across the person's windows, and the tab's icon counts unread", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE, { onPage: (page) => void watchNotifications(page) });
  await alice.context.grantPermissions(["notifications"], { origin: server.url });
  await alice.page.reload();
  await expect(alice.page.getByTestId("connection")).toHaveText(/Connected/);
  const bob = await Person.signIn(browser, server, BOB);

  // Nothing is offered at load; after the first conversation, once.
  const offer = alice.page.getByRole("region", { name: "Notifications" });
  await expect(offer).toHaveCount(0);
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Hi Alice");
  await expect(offer).toBeVisible();
  await screenshot(alice.page, "37-notification-offer");
  await offer.getByRole("button", { name: "Turn on" }).click();
  await expect(offer).toHaveCount(0);
  await expect(alice.page.getByRole("checkbox", { name: "Desktop notifications" })).toBeChecked();

  const second = await alice.context.newPage();
  alice.windows.push(second);
  await watchNotifications(second);
  await second.goto(server.url);
  await expect(second.getByTestId("connection")).toHaveText(/Connected/);
  await hide(alice.page);
  await hide(second);

  await send(bob.page, ALICE, "Are you there?");
  await expect
    .poll(async () => [...(await shownIn(alice.page)), ...(await shownIn(second))].map((n) => `${n.title}: ${n.body}`))
    .toEqual([`${BOB}: Are you there?`]);
  // The icon carries the count: two unread.
  await expect(alice.page.locator('link[rel="icon"]')).toHaveAttribute("data-unread", "2");
  await expect(alice.page.locator('link[rel="icon"]')).toHaveAttribute("href", /^data:image\/png/);
  // Still exactly one, a moment later.
  await alice.page.waitForTimeout(2000);
  expect((await shownIn(alice.page)).length + (await shownIn(second)).length).toBe(1);
});

test("Ctrl+K jumps to a person or a room by part of its name", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  await Person.signIn(browser, server, BOB);
  const page = alice.page;
  await page.getByRole("button", { name: "New room" }).click();
  await page.getByRole("textbox", { name: "Room name" }).fill("Book club");
  await page.getByRole("button", { name: "Create room" }).click();
  await expect(page.getByRole("heading", { name: "Book club" })).toBeVisible();

  await page.keyboard.press("Control+k");
  const switcher = page.getByRole("dialog", { name: "Jump to a conversation" });
  const box = switcher.getByRole("combobox", { name: "Jump to a person or room" });
  await expect(box).toBeFocused();
  // Bob, Book club and "general", which every account joins.
  await expect(switcher.getByRole("option")).toHaveCount(3);
  await box.fill("bob");
  await expect(switcher.getByRole("option")).toHaveText([`${BOB}Online`]);
  await screenshot(page, "38-quick-switcher");
  expect(await accessibilityViolations(page)).toEqual([]);
  await box.press("Enter");
  await expect(switcher).toBeHidden();
  await expect(page.getByRole("heading", { name: BOB })).toBeVisible();

  await page.getByRole("button", { name: /^Jump to/ }).click();
  await box.fill("BOOK");
  await box.press("ArrowDown");
  await box.press("Enter");
  await expect(page.getByRole("heading", { name: "Book club" })).toBeVisible();
  await page.keyboard.press("Control+k");
  await page.keyboard.press("Escape");
  await expect(switcher).toBeHidden();
});

test("after a long outage the page reconnects within seconds of the server's return, with no Retry pressed", async ({ browser, server }) => {
  test.setTimeout(120_000);
  const alice = await Person.signIn(browser, server, ALICE);
  await server.kill();
  const status = alice.page.getByTestId("connection");
  await expect(status).toContainText("The connection was lost.");
  await expect(status).toContainText("Messages you write meanwhile are sent once connected.");
  // Long enough for the backoff to grow past the probe's interval.
  await alice.page.waitForTimeout(15_000);
  await server.restart(0);
  // The next attempt may be most of a backoff away; the page asks the server whether it
  // is back every ~2 s instead of waiting for it.
  await expect(status).toHaveText(/Connected/, { timeout: 8_000 });
});

test("New message finds someone who is offline, and writing to them works", async ({ browser, server }) => {
  const bob = await Person.signIn(browser, server, BOB);
  await bob.context.close();
  const alice = await Person.signIn(browser, server, ALICE);
  // Nobody else is online, but every account is in "general".
  await expect(alice.page.getByText("Choose a person or a room on the left to start chatting.")).toBeVisible();

  await alice.page.getByRole("button", { name: "New message" }).click();
  const dialog = alice.page.getByRole("dialog", { name: "New message" });
  await expect(dialog.getByRole("searchbox", { name: "Find anyone by name or email" })).toBeFocused();
  await dialog.getByRole("searchbox", { name: "Find anyone by name or email" }).fill("BO");
  const found = dialog.getByRole("button", { name: `Write to ${BOB}` });
  await expect(found).toBeVisible();
  await screenshot(alice.page, "39-people-directory");
  expect(await accessibilityViolations(alice.page)).toEqual([]);
  await found.click();
  await expect(dialog).toBeHidden();
  await expect(alice.page.getByRole("heading", { name: BOB })).toBeVisible();
  await send(alice.page, BOB, "For when you are back");
  await expect(alice.page.getByRole("navigation", { name: "People" }).getByRole("list", { name: "Direct messages" }).getByText(BOB)).toBeVisible();
  expect(server.query("SELECT count(*) FROM messages WHERE body = 'For when you are back'")).toBe("1");
});

test("a person names themself: their windows and the people who see them show the name and initials", async ({ browser, server }) => {
  const bob = await Person.signIn(browser, server, BOB);
  const alice = await Person.signIn(browser, server, ALICE);
  const second = await alice.openWindow();
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Who is this?");

  const page = alice.page;
  await page.getByRole("button", { name: "Add your name" }).click();
  const dialog = page.getByRole("dialog", { name: "Your name" });
  const field = dialog.getByRole("textbox", { name: "Display name" });
  await expect(field).toBeFocused();
  // What the server refuses is said in its words, and the dialog stays.
  await field.fill("   ");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("A name needs at least one visible character.");
  expect(await accessibilityViolations(page)).toEqual([]);
  await field.fill("Alice Liddell");
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  for (const window of [page, second]) {
    await expect(window.getByRole("button", { name: "Your name: Alice Liddell. Change it" })).toBeVisible();
    await expect(window.getByTestId("my-email")).toHaveText(ALICE);
  }

  // Bob's page says it everywhere she appears, her email beneath the name in the header.
  await expect(chatButton(bob.page, "Alice Liddell")).toBeVisible();
  const header = bob.page.locator(".conversation-header");
  await expect(header.getByRole("heading", { name: "Alice Liddell" })).toBeVisible();
  await expect(header.getByText(ALICE)).toBeVisible();
  await expect(header.locator(".avatar")).toHaveAttribute("data-initials", "AL");
  await chatButton(page, BOB).click();
  await send(page, BOB, "Alice, from the looking-glass");
  const log = messageLog(bob.page, "Alice Liddell");
  await expect(log.locator(".message").last().locator(".sender")).toHaveText("Alice Liddell");
  await screenshot(bob.page, "41-display-names");
  expect(await accessibilityViolations(bob.page)).toEqual([]);

  // The directory finds her by her name as well as her email.
  await bob.page.getByRole("button", { name: "New message" }).click();
  const directory = bob.page.getByRole("dialog", { name: "New message" });
  await directory.getByRole("searchbox", { name: "Find anyone by name or email" }).fill("alice lid");
  await expect(directory.getByRole("button", { name: "Write to Alice Liddell" })).toBeVisible();
  await expect(directory.getByText(ALICE)).toBeVisible();
});

test("the emoji picker finds an emoji by name and puts it in at the caret, with no outside request", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  await Person.signIn(browser, server, BOB);
  const page = alice.page;
  const outside: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (!["localhost", "127.0.0.1"].includes(url.hostname)) outside.push(request.url());
  });
  await chatButton(page, BOB).click();
  const box = composer(page);
  await box.fill("Good morning");
  await box.press("Home");
  await page.getByRole("button", { name: "Insert an emoji" }).click();
  const picker = page.getByRole("dialog", { name: "Emoji" });
  const search = picker.getByRole("combobox");
  await expect(search).toBeFocused();
  await search.fill("sunrise");
  await picker.getByRole("option", { name: /^🌅/ }).click();
  await expect(picker).toBeHidden();
  await expect(box).toHaveValue("🌅Good morning");
  await expect(box).toBeFocused();
  await box.press("Enter");
  await expect(messageLog(page, BOB).locator(".message:not(.pending) .body").last()).toHaveText("🌅Good morning");

  // Escape closes it, and the message box has the keyboard again.
  await page.getByRole("button", { name: "Insert an emoji" }).click();
  await expect(picker.getByRole("combobox")).toBeFocused();
  await screenshot(page, "42-emoji-picker");
  expect(await accessibilityViolations(page)).toEqual([]);
  await page.keyboard.press("Escape");
  await expect(picker).toBeHidden();
  await expect(box).toBeFocused();
  expect(outside).toEqual([]);
});

test("@ offers a room's members, a mention shows as their name, counts apart, and notifies a hidden tab", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE, {
    onPage: (page) => {
      void watchNotifications(page);
      // Counts the tones the page plays (the sound option).
      void page.addInitScript(() => {
        const w = window as unknown as { tones: number };
        w.tones = 0;
        const start = OscillatorNode.prototype.start;
        OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
          w.tones += 1;
          return start.call(this, when);
        };
      });
    },
  });
  await alice.context.grantPermissions(["notifications"], { origin: server.url });
  await alice.page.evaluate(() => localStorage.setItem("banter.notifications", JSON.stringify({ desktop: true, sound: true })));
  await alice.page.reload();
  await expect(alice.page.getByTestId("connection")).toHaveText(/Connected/);
  const bob = await Person.signIn(browser, server, BOB);
  const room = await server.api<{ room: { id: string } }>(server.mintToken(BOB), "POST", "/api/rooms", { name: "Tea" });
  await server.api(server.mintToken(ALICE), "POST", `/api/rooms/${room.room.id}/join`, {});
  const tea = bob.page.getByRole("navigation", { name: "People" }).getByRole("button", { name: /^Open room Tea/ });
  await tea.click();

  const box = composer(bob.page);
  await box.fill("Ready, ");
  await box.pressSequentially("@al");
  const choices = bob.page.getByRole("listbox", { name: "People to mention" });
  await expect(choices.getByRole("option")).toHaveText([ALICE]);
  await expect(box).toHaveAttribute("aria-activedescendant", /^mention-/);
  await screenshot(bob.page, "43-mention-choices");
  expect(await accessibilityViolations(bob.page)).toEqual([]);
  await box.press("Enter");
  await expect(choices).toBeHidden();
  await expect(box).toHaveValue(`Ready, @${ALICE} `);
  await hide(alice.page);
  await box.pressSequentially("tea?");
  await box.press("Enter");

  // Alice's room row counts the mention apart; her hidden tab says who mentioned her where.
  const row = alice.page.getByRole("navigation", { name: "People" }).getByRole("button", { name: /^Open room Tea/ });
  await expect(row).toHaveAccessibleName("Open room Tea, 1 unread, 1 mentioning you");
  await expect(row.locator(".badge.mentions")).toHaveAttribute("data-count", "@1");
  await expect
    .poll(async () => (await shownIn(alice.page)).map((n) => `${n.title}: ${n.body}`))
    .toEqual([`${BOB} mentioned you in # Tea: Ready, @${ALICE} tea?`]);
  expect(await alice.page.evaluate(() => (window as unknown as { tones: number }).tones)).toBe(1);
  // Back in the tab, she opens the room: read, the counts go.
  await alice.page.evaluate(() => {
    (window as unknown as { hidden: boolean }).hidden = false;
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await row.click();
  const mention = alice.page.locator(".message .mention.me");
  await expect(mention).toHaveText(`@${ALICE}`);
  await expect(row).toHaveAccessibleName("Open room Tea");
  await screenshot(alice.page, "44-mention-shown");
});

/** A message of the log by its seq (its text may be in an editor, or gone). */
function messageAt(page: import("@playwright/test").Page, peer: string, seq: number) {
  return messageLog(page, peer).locator(`.message[data-seq="${seq}"]`);
}

/** Opens a room by its row in the left pane. */
async function openRoom(page: import("@playwright/test").Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "People" }).getByRole("button", { name: new RegExp(`^Open room ${name}`) }).click();
  await expect(page.getByRole("heading", { name, exact: true })).toBeVisible();
}

test("the up arrow in an empty message box edits my last message in place, and everyone sees it edited", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Lunch at noon?");
  await send(alice.page, BOB, "See you tehre");
  await chatButton(bob.page, ALICE).click();
  const lunch = messageAt(bob.page, ALICE, 1);
  await lunch.hover();
  await lunch.getByRole("button", { name: /^Reply to/ }).click();
  await send(bob.page, ALICE, "Noon works");

  // The up arrow opens Alice's last message in an editor; Escape leaves it as it was.
  const box = composer(alice.page);
  await expect(box).toBeFocused();
  await box.press("ArrowUp");
  const editor = messageAt(alice.page, BOB, 2).getByRole("textbox", { name: "Edit message" });
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue("See you tehre");
  await editor.press("Escape");
  await expect(editor).toHaveCount(0);
  await expect(box).toBeFocused();
  await expect(messageAt(alice.page, BOB, 2).locator(".body")).toHaveText("See you tehre");

  // Enter saves; the message box has the keyboard again.
  await box.press("ArrowUp");
  await editor.fill("See you there");
  await screenshot(alice.page, "45-edit");
  expect(await accessibilityViolations(alice.page)).toEqual([]);
  await editor.press("Enter");
  await expect(editor).toHaveCount(0);
  await expect(box).toBeFocused();
  for (const [page, peer] of [[alice.page, BOB], [bob.page, ALICE]] as const) {
    await expect(messageAt(page, peer, 2).locator(".body")).toHaveText("See you there (edited)");
    await expect(messageAt(page, peer, 2).locator(".edited")).toHaveAttribute("title", /^Edited .*\d{4}/);
  }

  // Edit from the message's own toolbar, with Save: Bob's reply quotes the new text.
  await messageAt(alice.page, BOB, 1).hover();
  await messageAt(alice.page, BOB, 1).getByRole("button", { name: "Edit your message" }).click();
  await messageAt(alice.page, BOB, 1).getByRole("textbox", { name: "Edit message" }).fill("Lunch at one?");
  await messageAt(alice.page, BOB, 1).getByRole("button", { name: "Save" }).click();
  for (const [page, peer] of [[alice.page, BOB], [bob.page, ALICE]] as const) {
    await expect(messageAt(page, peer, 1).locator(".body")).toHaveText("Lunch at one? (edited)");
    await expect(messageAt(page, peer, 3).locator("blockquote")).toContainText("Lunch at one?");
  }
  await screenshot(bob.page, "45b-edited");
  // Bob may not edit Alice's messages: no Edit on them, and none for the up arrow to open.
  await expect(messageAt(bob.page, ALICE, 1).getByRole("button", { name: "Edit your message" })).toHaveCount(0);

  // Once Alice blocks him, nothing in the chat changes any more: the editor says why, and
  // a refused reaction is told like any refusal.
  await alice.page.getByRole("button", { name: "Block", exact: true }).click();
  await alice.page.getByRole("alertdialog", { name: `Block ${BOB}?` }).getByRole("button", { name: "Block" }).click();
  await expect(alice.page.getByRole("list", { name: "Blocked" }).getByText(BOB)).toBeVisible();
  await composer(bob.page).press("ArrowUp");
  const bobEditor = messageAt(bob.page, ALICE, 3).getByRole("textbox", { name: "Edit message" });
  await bobEditor.fill("Noon works fine");
  await bobEditor.press("Enter");
  await expect(messageAt(bob.page, ALICE, 3).getByRole("alert")).toHaveText("Not saved: one of you has blocked the other.");
  await bobEditor.press("Escape");
  await messageAt(bob.page, ALICE, 1).hover();
  await messageAt(bob.page, ALICE, 1).getByRole("button", { name: /^React to/ }).click();
  await bob.page.getByRole("dialog", { name: "Choose a reaction" }).getByRole("button", { name: "😮" }).click();
  await expect(bob.page.locator(".notice[role=alert]")).toHaveText(/Reaction not added: one of you has blocked the other\./);
  expect(server.query("SELECT string_agg(body, '|' ORDER BY seq) FROM messages")).toBe("Lunch at one?|See you there|Noon works");
});

test("deleting a message asks first, leaves a tombstone for everyone, and quotes of it say it is gone", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Meet at the old place");
  await chatButton(bob.page, ALICE).click();
  await messageAt(bob.page, ALICE, 1).hover();
  await messageAt(bob.page, ALICE, 1).getByRole("button", { name: /^Reply to/ }).click();
  await send(bob.page, ALICE, "Which one?");
  // Only its sender may delete a message of a direct chat.
  await messageAt(bob.page, ALICE, 1).hover();
  await expect(messageAt(bob.page, ALICE, 1).getByRole("toolbar", { name: "Message actions" }).getByRole("button")).toHaveText([
    "React",
    "Reply",
  ]);

  // The Delete key on the message asks too; Escape changes nothing.
  const mine = messageAt(alice.page, BOB, 1);
  await mine.focus();
  await alice.page.keyboard.press("Delete");
  const question = alice.page.getByRole("alertdialog", { name: "Delete this message?" });
  await expect(question.getByRole("button", { name: "Cancel" })).toBeFocused();
  await alice.page.keyboard.press("Escape");
  await expect(question).toBeHidden();
  await expect(mine.locator(".body")).toHaveText("Meet at the old place");

  await mine.hover();
  await mine.getByRole("button", { name: "Delete your message" }).click();
  await expect(question).toContainText("deleted for everyone");
  await screenshot(alice.page, "46-delete-confirmation");
  expect(await accessibilityViolations(alice.page)).toEqual([]);
  await question.getByRole("button", { name: "Delete message" }).click();
  for (const [page, peer] of [[alice.page, BOB], [bob.page, ALICE]] as const) {
    await expect(messageAt(page, peer, 1).locator(".body")).toHaveText("This message was deleted.");
    await expect(messageAt(page, peer, 1).getByRole("toolbar")).toHaveCount(0);
    await expect(messageAt(page, peer, 2).locator("blockquote")).toHaveText("Original message deleted");
  }
  await screenshot(bob.page, "46b-deleted");
  expect(server.query("SELECT body || '|' || (deleted_at IS NOT NULL) FROM messages WHERE seq = 1")).toBe("|true");
});

test("a room's creator deletes anyone's message in it, and the room everyone shares cannot be deleted", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  const { room } = await server.api<{ room: { id: string } }>(server.mintToken(ALICE), "POST", "/api/rooms", { name: "Moderated" });
  await server.api(server.mintToken(BOB), "POST", `/api/rooms/${room.id}/join`, {});
  await openRoom(bob.page, "Moderated");
  await send(bob.page, "Moderated", "Buy cheap watches");
  await openRoom(alice.page, "Moderated");
  await send(alice.page, "Moderated", "Welcome, everyone");

  // Bob may not delete Alice's message; Alice, who made the room, may delete his.
  await messageAt(bob.page, "Moderated", 2).hover();
  await expect(messageAt(bob.page, "Moderated", 2).getByRole("button", { name: /^Delete/ })).toHaveCount(0);
  await messageAt(alice.page, "Moderated", 1).hover();
  await messageAt(alice.page, "Moderated", 1).getByRole("button", { name: `Delete ${BOB}'s message` }).click();
  const question = alice.page.getByRole("alertdialog", { name: "Delete this message?" });
  await expect(question).toContainText(`${BOB}'s message is deleted for everyone in Moderated`);
  await question.getByRole("button", { name: "Delete message" }).click();
  await expect(messageAt(bob.page, "Moderated", 1).locator(".body")).toHaveText("This message was deleted.");

  // "general", which every account joins: no Delete room, even for the person who made it.
  server.query(`UPDATE conversations SET created_by = (SELECT id FROM users WHERE email = '${ALICE}') WHERE everyone`);
  await alice.page.reload();
  await expect(alice.page.getByTestId("connection")).toHaveText(/Connected/);
  await openRoom(alice.page, "general");
  await expect(alice.page.getByRole("button", { name: "Leave room" })).toBeVisible();
  await expect(alice.page.getByRole("button", { name: "Delete room" })).toHaveCount(0);
  await openRoom(alice.page, "Moderated");
  await expect(alice.page.getByRole("button", { name: "Delete room" })).toBeVisible();
});

test("reactions show as chips with their counts for everyone, marked when mine, and a click takes mine off", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Finished the report");
  await chatButton(bob.page, ALICE).click();

  // Bob: React opens quick reactions (the first has the focus) and the emoji picker.
  const message = messageAt(bob.page, ALICE, 1);
  await message.hover();
  const react = message.getByRole("button", { name: `React to ${ALICE}'s message` });
  await react.click();
  const picker = bob.page.getByRole("dialog", { name: "Choose a reaction" });
  await expect(picker.getByRole("button", { name: "👍" })).toBeFocused();
  await expect(picker.getByRole("menuitem").first()).toBeVisible();
  await screenshot(bob.page, "47a-reaction-picker");
  expect(await accessibilityViolations(bob.page)).toEqual([]);
  await picker.getByRole("button", { name: "👍" }).click();
  await expect(picker).toBeHidden();
  await expect(react).toBeFocused();

  const chips = (page: import("@playwright/test").Page, peer: string) =>
    messageAt(page, peer, 1).getByRole("group", { name: "Reactions" }).getByRole("button");
  const thumbs = (page: import("@playwright/test").Page, peer: string) => chips(page, peer).filter({ hasText: "👍" });
  await expect(thumbs(alice.page, BOB)).toHaveAccessibleName(`👍 1, ${BOB}`);
  await expect(thumbs(alice.page, BOB)).toHaveAttribute("aria-pressed", "false");
  await expect(thumbs(alice.page, BOB)).toHaveAttribute("title", `${BOB} reacted with 👍`);
  await expect(thumbs(bob.page, ALICE)).toHaveAttribute("aria-pressed", "true");
  expect(await accessibilityViolations(bob.page)).toEqual([]);

  // Alice adds hers with a click on the chip; Bob one more from the whole picker.
  await thumbs(alice.page, BOB).click();
  await expect(thumbs(alice.page, BOB)).toHaveAccessibleName(`👍 2, You and ${BOB}`);
  await expect(thumbs(alice.page, BOB)).toHaveAttribute("aria-pressed", "true");
  await expect(thumbs(bob.page, ALICE)).toHaveAccessibleName(`👍 2, You and ${ALICE}`);
  await message.hover();
  await react.click();
  await picker.getByRole("combobox").fill("popper");
  await picker.getByRole("option", { name: /^🎉/ }).click();
  await expect(chips(alice.page, BOB)).toHaveText(["👍2", "🎉1"]);
  await screenshot(alice.page, "47-reactions");
  expect(await accessibilityViolations(alice.page)).toEqual([]);

  // By keyboard: from the message, Tab reaches its toolbar, then its chips.
  await message.focus();
  await bob.page.keyboard.press("Tab");
  await expect(react).toBeFocused();
  await bob.page.keyboard.press("Tab");
  await expect(thumbs(bob.page, ALICE)).toBeFocused();
  await bob.page.keyboard.press("Enter");
  await expect(thumbs(alice.page, BOB)).toHaveAccessibleName("👍 1, You");
  await thumbs(alice.page, BOB).click();
  await expect(thumbs(bob.page, ALICE)).toHaveCount(0);
  await expect(chips(bob.page, ALICE)).toHaveText(["🎉1"]);
  expect(server.query("SELECT string_agg(emoji, '') FROM reactions")).toBe("🎉");
});

test("my last message says Seen once the other person reads it, a room says who has, and receipts can be turned off", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  const bobSecond = await bob.openWindow();
  await chatButton(alice.page, BOB).click();
  await send(alice.page, BOB, "Are you coming?");
  await expect(messageAt(alice.page, BOB, 1).getByTestId("seen")).toHaveCount(0);

  // Bob opens the chat: it is read, and Alice's message says so.
  await chatButton(bob.page, ALICE).click();
  const seen = messageAt(alice.page, BOB, 1).getByTestId("seen");
  await expect(seen).toHaveText("Seen");
  await expect(seen).toHaveAttribute("title", `Seen by ${BOB}`);
  await screenshot(alice.page, "48-seen");
  // Only under the last of mine: a newer one takes it once read.
  await send(alice.page, BOB, "Bring snacks");
  await expect(messageAt(alice.page, BOB, 2).getByTestId("seen")).toBeVisible();
  await expect(messageAt(alice.page, BOB, 1).getByTestId("seen")).toHaveCount(0);

  // In a room, Alice asks who has read her last message.
  const { room } = await server.api<{ room: { id: string } }>(server.mintToken(ALICE), "POST", "/api/rooms", { name: "Snacks" });
  await server.api(server.mintToken(BOB), "POST", `/api/rooms/${room.id}/join`, {});
  const bobHasRead = () =>
    server.query(`SELECT m.read_seq FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = '${BOB}' AND m.conversation_id = '${room.id}'`);
  await openRoom(alice.page, "Snacks");
  await send(alice.page, "Snacks", "Crisps or fruit?");
  const seenBy = messageAt(alice.page, "Snacks", 1).getByRole("button", { name: /^Seen by/ });
  await expect(seenBy).toHaveText("Seen by…");
  await seenBy.click();
  await expect(seenBy).toHaveText("Seen by nobody yet");
  await openRoom(bob.page, "Snacks");
  await expect(messageLog(bob.page, "Snacks").getByText("Crisps or fruit?")).toBeVisible();
  await expect
    .poll(bobHasRead)
    .toBe("1");
  await seenBy.click();
  await expect(seenBy).toHaveText("Seen by 1");
  await expect(messageAt(alice.page, "Snacks", 1).getByTestId("seen-names")).toHaveText(BOB);
  await screenshot(alice.page, "48b-seen-by");
  expect(await accessibilityViolations(alice.page)).toEqual([]);

  // Bob stops sharing: both his windows say so, and Alice sees his reads no more.
  const share = bob.page.getByRole("checkbox", { name: "Read receipts" });
  await expect(share).toBeChecked();
  await share.uncheck();
  await expect(bobSecond.getByRole("checkbox", { name: "Read receipts" })).not.toBeChecked();
  await expect(bob.page.getByText("Nobody sees how far you have read")).toBeVisible();
  expect(server.query(`SELECT share_receipts FROM users WHERE email = '${BOB}'`)).toBe("f");
  await send(alice.page, "Snacks", "Anyone?");
  await expect(messageLog(bob.page, "Snacks").getByText("Anyone?")).toBeVisible();
  await expect
    .poll(bobHasRead)
    .toBe("2");
  const again = messageAt(alice.page, "Snacks", 2).getByRole("button", { name: /^Seen by/ });
  await again.click();
  await expect(again).toHaveText("Seen by nobody yet");
  // And he is shown nobody's: no "Seen by…" under his own messages.
  await send(bob.page, "Snacks", "Apples");
  await expect(messageAt(bob.page, "Snacks", 3).getByRole("button", { name: /^Seen by/ })).toHaveCount(0);
});

test("a second window of the same person mirrors edits, deletions and reactions", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB);
  const second = await alice.openWindow();
  await chatButton(bob.page, ALICE).click();
  await send(bob.page, ALICE, "Morning!");
  await chatButton(alice.page, BOB).click();
  await expect(second.getByRole("heading", { name: BOB })).toBeVisible();
  await send(alice.page, BOB, "Hi Bob");
  await send(alice.page, BOB, "Coffe later?");
  await expect(messageAt(second, BOB, 3).locator(".body")).toHaveText("Coffe later?");

  // Edited in the first window: the second (and Bob) show the new text.
  await composer(alice.page).press("ArrowUp");
  const editor = messageAt(alice.page, BOB, 3).getByRole("textbox", { name: "Edit message" });
  await editor.fill("Coffee later?");
  await editor.press("Enter");
  for (const [page, peer] of [[second, BOB], [bob.page, ALICE]] as const) {
    await expect(messageAt(page, peer, 3).locator(".body")).toHaveText("Coffee later? (edited)");
  }

  // A reaction from the first window is mine in the second too.
  await messageAt(alice.page, BOB, 1).hover();
  await messageAt(alice.page, BOB, 1).getByRole("button", { name: /^React to/ }).click();
  await alice.page.getByRole("dialog", { name: "Choose a reaction" }).getByRole("button", { name: "❤️" }).click();
  const heart = messageAt(second, BOB, 1).getByRole("group", { name: "Reactions" }).getByRole("button");
  await expect(heart).toHaveAccessibleName("❤️ 1, You");
  await expect(heart).toHaveAttribute("aria-pressed", "true");

  // Deleted in the first window: a tombstone in the second (and for Bob).
  await messageAt(alice.page, BOB, 2).hover();
  await messageAt(alice.page, BOB, 2).getByRole("button", { name: "Delete your message" }).click();
  await alice.page.getByRole("alertdialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete message" }).click();
  for (const [page, peer] of [[second, BOB], [bob.page, ALICE]] as const) {
    await expect(messageAt(page, peer, 2).locator(".body")).toHaveText("This message was deleted.");
  }
  // Taken off in the second window: gone in the first.
  await heart.click();
  await expect(messageAt(alice.page, BOB, 1).getByRole("group", { name: "Reactions" })).toHaveCount(0);
  await screenshot(second, "49-second-window-changes");
});

/**
 * Lets a test cut a window's socket and keep it from connecting again until let go
 * (`offline`): the page's sockets go to a closed port meanwhile.
 */
async function controlSockets(page: import("@playwright/test").Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { sockets: WebSocket[]; offline: boolean };
    w.sockets = [];
    w.offline = false;
    const Real = window.WebSocket;
    class Controlled extends Real {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(w.offline ? "ws://127.0.0.1:9/" : url, protocols);
        w.sockets.push(this);
      }
    }
    Object.defineProperty(window, "WebSocket", { value: Controlled });
  });
}

test("a window that was away catches up on the edits, deletions and reactions it missed", async ({ browser, server }) => {
  const alice = await Person.signIn(browser, server, ALICE);
  const bob = await Person.signIn(browser, server, BOB, { onPage: (page) => void controlSockets(page) });
  await chatButton(alice.page, BOB).click();
  for (const text of ["First draft", "Second thought", "Third"]) await send(alice.page, BOB, text);
  await chatButton(bob.page, ALICE).click();
  await expect(messageAt(bob.page, ALICE, 3).locator(".body")).toHaveText("Third");
  const sent: string[] = [];
  bob.page.on("websocket", (socket) => socket.on("framesent", (frame) => sent.push(String(frame.payload))));

  // Bob's window loses its connection, and cannot get one back for now.
  await bob.page.evaluate(() => {
    const w = window as unknown as { sockets: WebSocket[]; offline: boolean };
    w.offline = true;
    for (const socket of w.sockets) socket.close();
  });
  await expect(bob.page.getByTestId("connection")).not.toHaveText(/Connected/);

  // Meanwhile Alice edits one message, deletes another and reacts to the third.
  await messageAt(alice.page, BOB, 1).hover();
  await messageAt(alice.page, BOB, 1).getByRole("button", { name: "Edit your message" }).click();
  await messageAt(alice.page, BOB, 1).getByRole("textbox", { name: "Edit message" }).fill("First draft, revised");
  await messageAt(alice.page, BOB, 1).getByRole("textbox", { name: "Edit message" }).press("Enter");
  await expect(messageAt(alice.page, BOB, 1).locator(".body")).toHaveText("First draft, revised (edited)");
  await messageAt(alice.page, BOB, 2).hover();
  await messageAt(alice.page, BOB, 2).getByRole("button", { name: "Delete your message" }).click();
  await alice.page.getByRole("alertdialog", { name: "Delete this message?" }).getByRole("button", { name: "Delete message" }).click();
  await messageAt(alice.page, BOB, 3).hover();
  await messageAt(alice.page, BOB, 3).getByRole("button", { name: /^React to/ }).click();
  await alice.page.getByRole("dialog", { name: "Choose a reaction" }).getByRole("button", { name: "🎉" }).click();
  await expect(messageAt(alice.page, BOB, 3).getByRole("group", { name: "Reactions" })).toContainText("🎉1");
  expect(server.query("SELECT last_change FROM conversations WHERE kind = 'direct'")).toBe("3");

  // Back online, Bob's window asks for what changed since and shows it.
  await bob.page.evaluate(() => ((window as unknown as { offline: boolean }).offline = false));
  await expect(bob.page.getByTestId("connection")).toHaveText(/Connected/, { timeout: 20_000 });
  await expect(messageAt(bob.page, ALICE, 1).locator(".body")).toHaveText("First draft, revised (edited)");
  await expect(messageAt(bob.page, ALICE, 2).locator(".body")).toHaveText("This message was deleted.");
  await expect(messageAt(bob.page, ALICE, 3).getByRole("group", { name: "Reactions" }).getByRole("button")).toHaveAccessibleName(
    `🎉 1, ${ALICE}`,
  );
  expect(sent.filter((frame) => frame.includes('"type":"changes"')).map((frame) => JSON.parse(frame).after)).toEqual([0]);
});
