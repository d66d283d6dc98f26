// The dashboard: its heading and sections now; its charts once they land.
import { expect, open, test } from "./support";

/**
 * The dashboard is being rebuilt with charts. When it draws them, set this to true: the second
 * test then requires a chart named "Executions per hour".
 */
const DASHBOARD_HAS_CHARTS = false;

test("the dashboard loads with its heading and sections", async ({ page }) => {
  await open(page, "/", "Dashboard");
  await expect(page.getByRole("heading", { level: 2, name: "Pending approvals" })).toBeVisible();
});

test("the dashboard draws its charts", async ({ page }) => {
  test.fixme(!DASHBOARD_HAS_CHARTS, "the dashboard has no charts yet: set DASHBOARD_HAS_CHARTS");
  await open(page, "/", "Dashboard");
  const chart = page.getByRole("img", { name: /Executions per hour/ });
  await expect(chart).toBeVisible();
  const box = await chart.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(100);
  expect(box?.height ?? 0).toBeGreaterThan(50);
});
