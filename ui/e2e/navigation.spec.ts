// The left navigation: its links, by their exact names, each to its page.
import { expect, open, test } from "./support";

const PAGES = ["Dashboard", "Workflows", "Executions", "Approvals", "Settings"];

test("the navigation links every page by name", async ({ page }) => {
  await open(page, "/", "Dashboard");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link")).toHaveText(PAGES);
  for (const name of PAGES) {
    await nav.getByRole("link", { name, exact: true }).click();
    await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
    await expect(nav.getByRole("link", { name, exact: true })).toHaveAttribute("aria-current", "page");
  }
});
