// Executions: one run's steps and the path it took, and a new run showing up live.
import { seed } from "./env";
import { expect, open, sendEvent, settled, test } from "./support";

test("an execution shows its steps and the path it took", async ({ page }) => {
  await open(page, "/executions", "Executions");
  await page.getByRole("link", { name: seed.approvedExecution }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Execution of ${seed.workflowId}` })).toBeVisible();
  await settled(page);
  await expect(page).toHaveURL(new RegExp(`/executions/${seed.approvedExecution}$`));

  // The summary.
  const summary = page.getByRole("region", { name: "Summary" });
  await expect(summary.getByRole("definition").filter({ hasText: seed.approvedExecution })).toBeVisible();
  await expect(summary).toContainText("completed");
  await expect(summary).toContainText("allow");

  // The path: started, each step in the order it ran, finished.
  const timeline = page.getByRole("region", { name: "Timeline" });
  await expect(timeline.getByRole("heading", { level: 3 })).toHaveText([
    "Started",
    "big_order",
    "manager_approval",
    "allow",
    "Finished",
  ]);
  // The condition's compared values: the order's total against the threshold.
  const compared = timeline.getByRole("table", { name: "Compared values" });
  await expect(compared.getByRole("row").nth(1)).toHaveText(/order\.total\s*gte\s*10000\s*25000\s*true/);

  // The same path on the workflow's graph: every step says how it ended, or that it was not
  // reached; choosing one (by keyboard) points to its attempts in the timeline.
  const graph = page.getByRole("region", { name: "Path taken" });
  await expect(graph.getByRole("figure", { name: /^Graph of order_check, version 1/ })).toBeVisible();
  for (const [step, how] of [
    ["big_order, condition", "completed"],
    ["manager_approval, approval", "completed"],
    ["allow, action", "completed"],
    ["block, action", "not reached"],
  ]) {
    await expect(graph.getByRole("button", { name: `Step ${step}: ${how}`, exact: true })).toBeVisible();
  }
  await graph.getByRole("button", { name: /^Step manager_approval/ }).focus();
  await page.keyboard.press("Enter");
  await expect(graph.getByRole("status")).toHaveText(/Step manager_approval: one attempt, highlighted in the timeline/);
});

test("a new execution appears on the executions page without a reload", async ({ page, api }) => {
  await open(page, "/executions", "Executions");
  await expect(page.getByRole("status", { name: "Live updates" })).toHaveText("Live");
  // Anything kept in the page's memory would be lost by a reload.
  await page.evaluate(() => ((window as unknown as { untouched: boolean }).untouched = true));

  const run = await sendEvent(api, { order: { id: `live_${Date.now()}`, total: 42 } });
  // The fallback poll comes 30 s after the page loaded: a row within 10 s came by the stream.
  await expect(page.getByRole("link", { name: run })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { untouched?: boolean }).untouched)).toBe(true);
});
