// The workflows: the deployed one is listed with its trigger, enabled, and how it ran lately; the
// search finds it; its page shows its definition, its runs and their statistics.
import { seed } from "./env";
import { expect, open, test } from "./support";

test("the workflow list shows the deployed workflow and finds it by search", async ({ page }) => {
  await open(page, "/workflows", "Workflows");
  const table = page.getByRole("table", { name: "Workflows" });
  const row = table.getByRole("row").filter({ hasText: seed.workflowId });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(seed.workflowName);
  await expect(row).toContainText(seed.eventType);
  // How it ran lately: its seeded runs started minutes ago, and those that finished completed.
  await expect(table.getByRole("columnheader", { name: "Last run" })).toBeVisible();
  await expect(table.getByRole("columnheader", { name: "Success (7 days)" })).toBeVisible();
  await expect(row).toContainText(/ ago/);
  await expect(row).toContainText(/\d+(\.\d)? % · \d+ finished/);
  await expect(row.getByRole("switch", { name: `${seed.workflowName} enabled` })).toHaveAttribute(
    "aria-checked",
    "true",
  );

  const search = page.getByRole("searchbox", { name: "Search" });
  await search.fill("no-workflow-is-called-this");
  await expect(page.getByText("No workflow matches.")).toBeVisible();
  await search.fill(seed.workflowId);
  await expect(table.getByRole("row").filter({ hasText: seed.workflowId })).toHaveCount(1);

  await row.getByRole("link", { name: `Executions of ${seed.workflowName}` }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Executions" })).toBeVisible();
  await expect(page.getByLabel("Workflow id")).toHaveValue(seed.workflowId);
});

test("a workflow's page shows its definition and its executions", async ({ page }) => {
  await open(page, "/workflows", "Workflows");
  await page.getByRole("link", { name: seed.workflowName, exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: seed.workflowName, exact: true })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/workflows/${seed.workflowId}$`));
  await expect(page.getByRole("region", { name: /^Definition/ })).toContainText("manager_approval");
  const runs = page.getByRole("region", { name: "Executions", exact: true });
  await expect(runs.getByRole("link", { name: seed.approvedExecution })).toBeVisible();

  // Its statistics: a week by default, its executions per hour, and where its time goes.
  const stats = page.getByRole("region", { name: "Statistics" });
  await expect(stats.getByRole("radio", { name: "Last 7 days" })).toBeChecked();
  await expect(stats.getByRole("img", { name: /^Executions per hour over the last 7 days/ })).toBeVisible();
  const steps = stats.getByRole("table", { name: /^Where time goes/ });
  // Slowest first: the approval waited for a person, the other steps took milliseconds.
  await expect(steps.getByRole("rowheader").first()).toHaveText("manager_approval");
});
