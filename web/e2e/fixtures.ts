// Playwright fixtures: the identity provider for the whole run, a fresh server and
// database per test, and people who sign in through the provider's login page, each in
// their own browser profile (context), with as many windows as a test wants.

import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { ARTIFACTS, BanterServer, startIdentityProvider, type IdentityProvider } from "./stack";

const SCREENS = resolve(ARTIFACTS, "screens");
mkdirSync(SCREENS, { recursive: true });

export class Person {
  readonly windows: Page[] = [];

  constructor(
    readonly email: string,
    readonly context: BrowserContext,
    private readonly server: BanterServer,
  ) {}

  /** The first window, signed in through the provider's login page. */
  static async signIn(
    browser: Browser,
    server: BanterServer,
    email: string,
    options: {
      viewport?: { width: number; height: number };
      /** A touchscreen phone (no hover). */
      touch?: boolean;
      colorScheme?: "light" | "dark";
      /** Take screenshots of the sign-in screens with this name prefix. */
      screens?: string;
      /** Called with the first window before it loads (to watch its sockets). */
      onPage?: (page: Page) => void;
    } = {},
  ) {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1200, height: 800 },
      hasTouch: options.touch,
      isMobile: options.touch,
      colorScheme: options.colorScheme,
    });
    const person = new Person(email, context, server);
    const page = await context.newPage();
    options.onPage?.(page);
    person.windows.push(page);
    await page.goto(server.url);
    const signIn = page.getByRole("button", { name: "Sign in" });
    await expect(signIn).toBeVisible();
    if (options.screens) await screenshot(page, `${options.screens}-sign-in`);
    await signIn.click();
    await page.getByLabel("Email").fill(email);
    if (options.screens) await screenshot(page, `${options.screens}-provider-login`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expectSignedIn(page, email);
    return person;
  }

  /** Another window of the same browser profile: signed in already. */
  async openWindow(): Promise<Page> {
    const page = await this.context.newPage();
    this.windows.push(page);
    await page.goto(this.server.url);
    await expectSignedIn(page, this.email);
    return page;
  }

  get page(): Page {
    return this.windows[0];
  }
}

export async function expectSignedIn(page: Page, email: string): Promise<void> {
  await expect(page.getByTestId("my-email")).toHaveText(email);
  await expect(page.getByTestId("connection")).toHaveText(/Connected/);
}

/** The online list: my conversation partners who are online on top, then everyone else. */
export function onlineList(page: Page) {
  return page.getByRole("navigation", { name: "People" }).getByRole("list", { name: "Online now" });
}

/** My direct conversations, in a fixed order, each with a presence dot. */
export function directMessages(page: Page) {
  return page.getByRole("navigation", { name: "People" }).getByRole("list", { name: "Direct messages" });
}

/** The box that searches everyone online by the start of their email. */
export function onlineFilter(page: Page) {
  return page.getByRole("navigation", { name: "People" }).getByRole("searchbox", { name: "Find people online" });
}

/** "N online": everyone online I may see, whatever the list shows. */
export function onlineCount(page: Page) {
  return page.getByTestId("online-count");
}

/** Scrolls the online list (it scrolls on its own, inside the left pane) to `where`. */
export async function scrollOnlineList(page: Page, where: "top" | "bottom"): Promise<void> {
  await page
    .getByTestId("online-scroll")
    .evaluate((el, to) => el.scrollTo({ top: to === "top" ? 0 : el.scrollHeight }), where);
}

/** The rooms I am in, in the left pane. */
export function myRooms(page: Page) {
  return page.getByRole("navigation", { name: "People" }).getByRole("list", { name: "Rooms" });
}

/** Opens "Browse rooms" (the directory of every room) and returns its dialog. */
export async function browseRooms(page: Page) {
  await page.getByRole("button", { name: "Browse rooms" }).click();
  const dialog = page.getByRole("dialog", { name: "Browse rooms" });
  await expect(dialog).toBeVisible();
  return dialog;
}

export function chatButton(page: Page, email: string) {
  return page.getByRole("button", { name: new RegExp(`^Chat with ${email.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`) });
}

export function messageLog(page: Page, email: string) {
  return page.getByRole("log", { name: `Messages with ${email}` });
}

export function composer(page: Page) {
  return page.getByRole("textbox", { name: "Message" });
}

/** Types a message into the composer and sends it with Enter; waits until it is acknowledged. */
export async function send(page: Page, peer: string, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press("Enter");
  const log = messageLog(page, peer);
  await expect(log.locator(".message:not(.pending)", { hasText: text })).toHaveCount(1);
  await expect(log.locator(".pending")).toHaveCount(0);
}

/** Sends `count` messages numbered from 1 (`${prefix} 1`, …) at a pace the message allowance lets through. */
export async function sendMany(page: Page, peer: string, prefix: string, count: number): Promise<void> {
  const log = messageLog(page, peer);
  for (let sent = 0; sent < count; ) {
    const batch = Math.min(30, count - sent);
    for (let i = 0; i < batch; i++) {
      await composer(page).fill(`${prefix} ${sent + i + 1}`);
      await composer(page).press("Enter");
    }
    sent += batch;
    await expect(log.locator(".pending")).toHaveCount(0, { timeout: 30_000 });
    if (sent < count) await page.waitForTimeout(1600);
  }
}

/** Serious and critical accessibility violations axe-core finds on the page as it is. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SCREENS, `${name}.png`) });
}

export const test = base.extend<{ server: BanterServer; serverEnv: Record<string, string> }, { idp: IdentityProvider }>({
  idp: [
    async ({}, use) => {
      const idp = await startIdentityProvider();
      await use(idp);
      await idp.stop();
    },
    // Its start may wait up to 120 s (stack.ts): longer than a test's own timeout.
    { scope: "worker", timeout: 150_000 },
  ],
  serverEnv: [{}, { option: true }],
  // The browser lives as long as the worker: the windows a test opened (its people's
  // browser profiles) are closed before its server stops, so that they neither reconnect
  // in the background through later tests nor find a later test's server on the same port.
  server: async ({ idp, serverEnv, browser }, use) => {
    const server = await BanterServer.start(idp, serverEnv);
    const before = new Set(browser.contexts());
    await use(server);
    await Promise.all(browser.contexts().filter((c) => !before.has(c)).map((c) => c.close()));
    await server.stop();
  },
});

export { expect };
