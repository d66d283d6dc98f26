// What every scenario shares: a `test` that fails on an uncaught error or a Content-Security-
// Policy violation in the page, opening a page once it has loaded, themes, axe, screenshots,
// and the API as the Rust side's key sees it.
import path from "node:path";

import AxeBuilder from "@axe-core/playwright";
import { type APIRequestContext, expect, type Page, test as base } from "@playwright/test";

import { baseURL, screenshotDir, seed } from "./env";

export { expect };

export const test = base.extend<{ pageProblems: string[]; api: APIRequestContext }>({
  pageProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error" && /Content.Security.Policy/i.test(message.text())) {
          problems.push(`CSP: ${message.text()}`);
        }
      });
      await use(problems);
      expect(problems, "the page logged no uncaught error and no CSP violation").toEqual([]);
    },
    { auto: true },
  ],
  api: async ({ playwright }, use) => {
    // A context of its own: the key alone, never the browser's session cookie.
    const api = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { Authorization: `Bearer ${seed.apiKey}` },
    });
    await use(api);
    await api.dispose();
  },
});

export type Theme = "light" | "dark";

/** The console's own theme choice (kept in localStorage) and the system's, both set. */
export async function chooseTheme(page: Page, theme: Theme) {
  await page.emulateMedia({ colorScheme: theme });
  await page.addInitScript((t) => localStorage.setItem("weir-theme", t), theme);
}

/** Goes to a page and waits for its heading and for every "Loading…" to be gone. */
export async function open(page: Page, url: string, heading: string | RegExp) {
  await page.goto(url);
  await expect(page.getByRole("heading", { level: 1, name: heading, exact: typeof heading === "string" })).toBeVisible();
  await settled(page);
}

/** Waits until nothing on the page says it is loading ("Loading…", "Laying out the graph…"). */
export async function settled(page: Page) {
  await expect(page.getByRole("status").filter({ hasText: /^(Loading|Laying out)/ })).toHaveCount(0);
}

/** Runs axe on the page as it is: every serious or critical violation, with where it is. */
export async function seriousViolations(page: Page, what: string): Promise<string[]> {
  // Only violations are read: axe then details one node per other result, which saves time.
  const results = await new AxeBuilder({ page }).options({ resultTypes: ["violations"] }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${what}: ${v.id} (${v.impact}): ${v.help} ${v.helpUrl}\n` +
        v.nodes
          .map((n) => `    at ${n.target.join(" ")}\n      ${(n.failureSummary ?? "").replace(/\n/g, "\n      ")}`)
          .join("\n"),
    );
}

/** Fails with every serious or critical axe violation on the page as it is. */
export async function expectAccessible(page: Page, what: string) {
  expect(await seriousViolations(page, what), `axe on ${what}: no serious or critical violation`).toEqual([]);
}

/**
 * Saves a screenshot of the viewport as NAME.png when WEIR_SCREENSHOTS names a folder, after
 * making sure the page shows no secret: not the tests' API key, not the session's token.
 */
export async function screenshot(page: Page, name: string) {
  if (!screenshotDir) return;
  const shown = await page.locator("body").innerText();
  const secrets = [seed.apiKey, ...(await page.context().cookies()).map((c) => c.value)].filter((v) => v.length >= 16);
  for (const secret of secrets) expect(shown.includes(secret), `${name} shows a secret`).toBe(false);
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), animations: "disabled", caret: "hide" });
}

/** Sends an event as the tests' API key; the answer's first run id. */
export async function sendEvent(api: APIRequestContext, payload: object): Promise<string> {
  const response = await api.post("/api/v1/events", { data: { event_type: seed.eventType, payload } });
  expect(response.status(), await response.text()).toBe(200);
  const answer = (await response.json()) as { executions: { execution_id: string }[] };
  const run = answer.executions[0];
  if (!run) throw new Error(`the event started no run: ${JSON.stringify(answer)}`);
  return run.execution_id;
}
