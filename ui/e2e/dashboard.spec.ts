// The dashboard: its figures, its charts (drawn, named, with their numbers as a table), its range.
import { expect, open, test } from "./support";

test("the dashboard loads with its heading and sections", async ({ page }) => {
  await open(page, "/", "Dashboard");
  await expect(page.getByRole("heading", { level: 2, name: "Pending approvals" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 2, name: "Workflows that fail most" })).toBeVisible();
  await page.getByRole("link", { name: "Decide them in Approvals" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Approvals" })).toBeVisible();
});

test("the dashboard draws its charts", async ({ page }) => {
  await open(page, "/", "Dashboard");
  const chart = page.getByRole("img", { name: /Executions per hour/ });
  await expect(chart).toBeVisible();
  const box = await chart.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(100);
  expect(box?.height ?? 0).toBeGreaterThan(50);
  // The seeded runs finished within the last hour, so both charts say so in their names.
  await expect(chart).toHaveAttribute("aria-label", /\d+ runs? finished \(\d+ completed/);
  await expect(page.getByRole("img", { name: /^Success rate per hour/ })).toBeVisible();

  // The same figures as a table, for whoever cannot see the picture.
  await page.getByRole("button", { name: "Show the numbers of executions per hour" }).click();
  const table = page.getByRole("table", { name: /^Executions per hour over the last 24 hours/ });
  await expect(table).toBeVisible();
  await expect(table.getByRole("row")).not.toHaveCount(1);

  // Another range: kept in the URL, the charts drawn again for it.
  await page.getByRole("radio", { name: "Last 7 days" }).click();
  await expect(page).toHaveURL(/[?&]range=7d/);
  await expect(page.getByRole("img", { name: /^Executions per hour over the last 7 days/ })).toBeVisible();
});
