// The visual builder (issue 19): a deployed workflow opens as one node per step with its edges;
// palette drops, undo and redo; a condition changed in the side panel and deployed as a new
// version; a dry run's decision; a rollback from History; and the order approval built from an
// empty canvas by drag and drop, deployed, then deciding real orders. Each test deploys the
// workflows it needs through the API, so none changes what the other scenarios see.
import type { APIRequestContext, Locator, Page } from "@playwright/test";

import { seed } from "./env";
import { chooseTheme, expect, open, seriousViolations, test } from "./support";

/** The quickstart's shape under another id: a condition, an approval, allow and block. */
function orderCheck(id: string) {
  return {
    workflow_id: id,
    name: `Builder ${id}`,
    trigger: { type: "event", event: "order.checkout.initiated" },
    steps: [
      {
        id: "big_order",
        type: "condition",
        condition: { field: "order.total", operator: "gte", value: 10000 },
        on_true: "manager_approval",
        on_false: "allow",
      },
      {
        id: "manager_approval",
        type: "approval",
        approver_role: "sales_manager",
        timeout: "24h",
        on_approve: "allow",
        on_reject: "block",
        on_timeout: "block",
      },
      { id: "allow", type: "action", action: "allow", reason: "Order {{order.id}} may go through" },
      { id: "block", type: "action", action: "block", reason: "Order {{order.id}} was not approved" },
    ],
  };
}

async function deploy(api: APIRequestContext, definition: object) {
  const response = await api.post("/api/v1/workflows", { data: definition });
  expect(response.status(), await response.text()).toBe(201);
}

async function current(api: APIRequestContext, id: string) {
  const response = await api.get(`/api/v1/workflows/${id}`);
  expect(response.status(), await response.text()).toBe(200);
  return (await response.json()) as { version: number; definition: { steps: { condition?: { value?: unknown } }[] } };
}

function canvas(page: Page): Locator {
  return page.getByRole("region", { name: "Canvas" });
}

function steps(page: Page): Locator {
  return canvas(page).getByRole("button", { name: /^Step / });
}

async function openBuilder(page: Page, id: string) {
  await open(page, `/workflows/${id}/edit`, `Edit ${id}`);
  await expect(canvas(page).getByRole("button", { name: /^Trigger: / })).toBeVisible();
}

/** Drops a palette entry on an empty place of the canvas (its left edge, at a height). */
async function drop(page: Page, type: string, y: number) {
  await page
    .getByRole("region", { name: "Palette" })
    .getByRole("button", { name: type, exact: true })
    .dragTo(canvas(page), { targetPosition: { x: 40, y } });
}

test("a deployed workflow opens with one node per step and its edges", async ({ page, api }) => {
  await deploy(api, orderCheck("builder_open"));
  await openBuilder(page, "builder_open");
  await expect(steps(page)).toHaveCount(4);
  for (const step of ["big_order", "manager_approval", "allow", "block"]) {
    await expect(canvas(page).getByRole("button", { name: new RegExp(`^Step ${step},`) })).toBeVisible();
  }
  const edges = canvas(page).getByRole("group", { name: /^From / });
  await expect(edges).toHaveCount(5);
  for (const edge of [
    "From the trigger to big_order",
    "From big_order to manager_approval (true)",
    "From big_order to allow (false)",
    "From manager_approval to allow (approve)",
    "From manager_approval to block (reject, timeout)",
  ]) {
    await expect(canvas(page).getByRole("group", { name: edge, exact: true })).toBeAttached();
  }
  // The entry point from the workflow's page leads here.
  await open(page, "/workflows/builder_open", "Builder builder_open");
  await page.getByRole("link", { name: "Edit", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Edit builder_open" })).toBeVisible();
});

test("a step dragged from the palette is undone and redone", async ({ page, api }) => {
  await deploy(api, orderCheck("builder_undo"));
  await openBuilder(page, "builder_undo");
  await expect(steps(page)).toHaveCount(4);

  await drop(page, "condition", 300);
  const added = canvas(page).getByRole("button", { name: /^Step condition_1, condition/ });
  await expect(added).toBeVisible();
  await expect(steps(page)).toHaveCount(5);
  // The new step is selected, and the side panel edits it.
  await expect(page.getByRole("region", { name: "Step condition_1" })).toBeVisible();

  await page.keyboard.press("Control+z");
  await expect(added).toHaveCount(0);
  await expect(steps(page)).toHaveCount(4);
  await page.keyboard.press("Control+Shift+z");
  await expect(added).toBeVisible();
  await page.keyboard.press("Control+z");
  await expect(added).toHaveCount(0);
  await page.keyboard.press("Control+y");
  await expect(added).toBeVisible();

  // Delete removes it and its references; the toolbar's Undo brings it back.
  await added.click();
  await page.keyboard.press("Delete");
  await expect(added).toHaveCount(0);
  await page.getByRole("button", { name: "Undo", exact: true }).click();
  await expect(added).toBeVisible();

  // Ctrl+click adds a step to the selection: Delete removes both, undo brings both back.
  const allow = canvas(page).getByRole("button", { name: /^Step allow,/ });
  const block = canvas(page).getByRole("button", { name: /^Step block,/ });
  await allow.click();
  await block.click({ modifiers: ["Control"] });
  await expect(allow).toHaveAttribute("aria-pressed", "true");
  await expect(block).toHaveAttribute("aria-pressed", "true");
  await page.keyboard.press("Delete");
  await expect(steps(page)).toHaveCount(3);
  await page.keyboard.press("Control+z");
  await expect(steps(page)).toHaveCount(5);

  // Copy and paste, duplicate, select all and delete, undo.
  await canvas(page).getByRole("button", { name: /^Step big_order,/ }).click();
  await page.keyboard.press("Control+c");
  await page.keyboard.press("Control+v");
  const pasted = canvas(page).getByRole("button", { name: /^Step big_order_copy, condition/ });
  await expect(pasted).toBeVisible();
  await expect(pasted).toHaveAttribute("aria-pressed", "true");
  await page.keyboard.press("Control+d");
  await expect(canvas(page).getByRole("button", { name: /^Step big_order_copy_copy, condition/ })).toBeVisible();
  await expect(steps(page)).toHaveCount(7);
  await page.keyboard.press("Control+a");
  await page.keyboard.press("Delete");
  await expect(steps(page)).toHaveCount(0);
  await page.keyboard.press("Control+z");
  await expect(steps(page)).toHaveCount(7);
});

test("a step dropped on an edge goes on that way, and a handle dragged to a node connects it", async ({ page, api }) => {
  await deploy(api, orderCheck("builder_wire"));
  await openBuilder(page, "builder_wire");
  // The palette is searched by type (and description).
  const palette = page.getByRole("region", { name: "Palette" });
  await palette.getByLabel("Search step types").fill("dela");
  await expect(palette.getByRole("button", { name: "delay", exact: true })).toBeVisible();
  await expect(palette.getByRole("button", { name: "condition", exact: true })).toHaveCount(0);
  const start = canvas(page).getByRole("group", { name: "From the trigger to big_order", exact: true });
  // An edge is a thin line: dropped on the middle of its box, by the canvas's coordinates.
  const line = await start.boundingBox();
  const area = await canvas(page).boundingBox();
  if (!line || !area) throw new Error("the edge or the canvas has no box");
  await page
    .getByRole("region", { name: "Palette" })
    .getByRole("button", { name: "delay", exact: true })
    .dragTo(canvas(page), { targetPosition: { x: line.x + line.width / 2 - area.x, y: line.y + line.height / 2 - area.y } });
  await expect(canvas(page).getByRole("group", { name: "From the trigger to delay_1", exact: true })).toBeAttached();
  await expect(canvas(page).getByRole("group", { name: "From delay_1 to big_order", exact: true })).toBeAttached();
  await expect(start).toHaveCount(0);

  // big_order's `false` handle dragged onto block: on_false is block now.
  const falseHandle = canvas(page).getByRole("button", { name: /^Step big_order,/ }).locator('[data-handleid="false"]');
  await falseHandle.dragTo(canvas(page).getByRole("button", { name: /^Step block,/ }).locator('[data-handlepos="top"]'));
  await expect(canvas(page).getByRole("group", { name: "From big_order to block (false)", exact: true })).toBeAttached();
  await expect(canvas(page).getByRole("group", { name: "From big_order to allow (false)", exact: true })).toHaveCount(0);
  await canvas(page).getByRole("button", { name: /^Step big_order,/ }).click();
  await expect(page.getByRole("region", { name: "Step big_order" }).getByLabel(/^on_false/)).toHaveValue("block");
});

test("parallel and foreach steps are drawn as groups around their steps", async ({ page, api }) => {
  await deploy(api, {
    workflow_id: "builder_groups",
    trigger: { type: "event", event: "order.created" },
    steps: [
      {
        id: "checks",
        type: "parallel",
        steps: [
          { id: "credit_ok", type: "condition", condition: { field: "order.total", operator: "lt", value: 5000 } },
          { steps: [{ id: "score", type: "noop" }, { id: "fraud_ok", type: "condition", condition: { field: "order.risk", operator: "ne", value: "high" } }] },
        ],
      },
      { id: "each_line", type: "foreach", items: "{{order.items}}", steps: [{ id: "line_note", type: "noop" }] },
      { id: "done", type: "action", action: "allow" },
    ],
  });
  await openBuilder(page, "builder_groups");
  await expect(steps(page)).toHaveCount(7);
  await expect(canvas(page).getByRole("group", { name: "Group of checks" })).toBeVisible();
  await expect(canvas(page).getByRole("group", { name: "Group of each_line" })).toBeVisible();
  await expect(canvas(page).getByRole("group", { name: "From checks to credit_ok (branch 1)", exact: true })).toBeAttached();
  await expect(canvas(page).getByRole("group", { name: "From each_line to line_note (each item)", exact: true })).toBeAttached();

  // Dropped in a box (on its title, where no step is): a new branch, or the end of the body.
  for (const [group, type, edge] of [
    ["checks", "delay", "From checks to delay_1 (branch 3)"],
    ["each_line", "noop", "From line_note to noop_1"],
  ] as const) {
    const box = await canvas(page).getByRole("group", { name: `Group of ${group}` }).boundingBox();
    const area = await canvas(page).boundingBox();
    if (!box || !area) throw new Error("the group or the canvas has no box");
    await page
      .getByRole("region", { name: "Palette" })
      .getByRole("button", { name: type, exact: true })
      .dragTo(canvas(page), { targetPosition: { x: box.x + 12 - area.x, y: box.y + 8 - area.y } });
    await expect(canvas(page).getByRole("group", { name: edge, exact: true })).toBeAttached();
  }
});

test("the code view edits the same workflow as YAML or JSON, and fixes apply in a click", async ({ page, api }) => {
  await deploy(api, orderCheck("builder_code"));
  await openBuilder(page, "builder_code");
  await page.getByRole("button", { name: "Code", exact: true }).click();
  const code = page.getByRole("region", { name: "Code" });
  await code.getByRole("button", { name: "YAML" }).click();
  const yaml = code.getByLabel("Workflow as YAML");
  // The canonical text, as weir fmt writes it.
  await expect(yaml).toHaveValue(/^workflow_id: builder_code\nname: Builder builder_code\ntrigger:\n  type: event/);

  // Text that reads updates the canvas; text that does not says where, and changes nothing.
  await yaml.fill((await yaml.inputValue()).replace("value: 10000", "value: 12000"));
  await canvas(page).getByRole("button", { name: /^Step big_order,/ }).click();
  await expect(page.getByRole("region", { name: "Step big_order" }).getByLabel("Value", { exact: true })).toHaveValue("12000");
  await yaml.fill("steps: [");
  await expect(code.getByRole("alert")).toContainText(/^Not YAML: .*line 1, column 8/);
  await expect(page.getByRole("region", { name: "Step big_order" }).getByLabel(/^on_true/)).toHaveValue("manager_approval");
  await expect(page.getByRole("button", { name: "Problems (0)" })).toBeVisible();

  // A misspelt field: the step shows the error, and its fix applies in one click.
  await code.getByRole("button", { name: "JSON" }).click();
  const json = code.getByLabel("Workflow as JSON");
  await expect(json).toHaveValue(/"workflow_id": "builder_code"/);
  await json.fill((await json.inputValue()).replace('"reason": "Order {{order.id}} may go through"', '"reasn": "Order {{order.id}} may go through"'));
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "Problems (1)" }).click();
  const problems = page.getByRole("region", { name: "Problems" });
  await expect(problems.getByRole("button", { name: "allow", exact: true })).toBeVisible();
  await expect(problems).toContainText("unknown field 'reasn'");
  await page.getByRole("button", { name: "Apply all sure fixes" }).click();
  await expect(page.getByRole("button", { name: "Problems (0)" })).toBeVisible();

  await json.fill((await json.inputValue()).replace('"condition": {', '"condtion": {'));
  await expect(page.getByRole("button", { name: "Problems (2)" })).toBeVisible();
  await page.getByRole("button", { name: "Apply fix: rename the field to 'condition'" }).click();
  await expect(page.getByRole("button", { name: "Problems (0)" })).toBeVisible();
  await expect(json).toHaveValue(/"condition": \{/);
});

test("a description in English becomes a workflow on the canvas, for review", async ({ page }) => {
  await open(page, "/workflows/new", "New workflow");
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "Describe it in English" }).click();
  const panel = page.getByRole("region", { name: "Describe it in English" });
  await panel.getByRole("button", { name: "Suggest a workflow" }).click();
  await expect(panel.getByText("Describe what the workflow should do.")).toBeVisible();
  await panel
    .getByLabel("What should the workflow do?")
    .fill("When an order checkout is initiated, block orders over $10,000 and allow the rest.");
  await panel.getByRole("button", { name: "Suggest a workflow" }).click();
  await expect(panel.getByText(/^The suggestion is on the canvas/)).toBeVisible();
  await expect(steps(page).first()).toBeVisible();
  await expect(canvas(page).getByRole("button", { name: /^Trigger: order\.checkout\.initiated/ })).toBeVisible();
  // Nothing is deployed: undo brings back the empty canvas.
  await page.getByRole("button", { name: "Undo", exact: true }).click();
  await expect(steps(page)).toHaveCount(0);
});

test("unsaved changes survive a reload as a draft", async ({ page }) => {
  await open(page, "/workflows/new", "New workflow");
  const side = page.getByRole("complementary", { name: "Side panel" });
  await side.getByLabel("Name").fill("A draft to keep");
  await expect.poll(() => page.evaluate(() => localStorage.getItem("weir-builder-draft:new"))).toContain("A draft to keep");
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "New workflow" })).toBeVisible();
  await expect(side.getByLabel("Name")).toHaveValue("New workflow");
  await page.getByRole("button", { name: "Restore the draft" }).click();
  await expect(side.getByLabel("Name")).toHaveValue("A draft to keep");
  await page.getByRole("button", { name: "Undo", exact: true }).click();
  await expect(side.getByLabel("Name")).toHaveValue("New workflow");
  await page.evaluate(() => localStorage.removeItem("weir-builder-draft:new"));
});

test("a condition changed in the side panel is deployed as a new version", async ({ page, api }) => {
  await deploy(api, orderCheck("builder_edit"));
  await openBuilder(page, "builder_edit");
  await canvas(page).getByRole("button", { name: /^Step big_order,/ }).click();
  const panel = page.getByRole("region", { name: "Step big_order" });
  await expect(panel.getByLabel("Field", { exact: true })).toHaveValue("order.total");
  const value = panel.getByLabel("Value", { exact: true });
  await expect(value).toHaveValue("10000");
  // A value that is not a number says so, and changes nothing.
  await value.fill("lots");
  await expect(panel.getByText("Write a number (or a {{template}}).")).toBeVisible();
  await value.fill("25000");
  await expect(page.getByRole("status").filter({ hasText: "Unsaved changes" })).toBeVisible();

  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(page.getByText("Deployed version 2 of builder_edit.")).toBeVisible();
  const stored = await current(api, "builder_edit");
  expect(stored.version).toBe(2);
  expect(stored.definition.steps[0]?.condition?.value).toBe(25000);
});

test("a test run with a sample payload shows the decision and lights the path", async ({ page, api }) => {
  await deploy(api, orderCheck("builder_test"));
  await openBuilder(page, "builder_test");
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "Test" }).click();
  const panel = page.getByRole("region", { name: "Test" });
  await expect(panel.getByLabel("Event type")).toHaveValue(seed.eventType);
  // A recent real event of the trigger's type as the sample (the seeded checkouts).
  await panel.getByRole("button", { name: `Use the latest ${seed.eventType}` }).click();
  await expect(panel.getByLabel("Sample payload")).toHaveValue(/"id": "[^"]+"/);
  await panel.getByLabel("Sample payload").fill("{not json");
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(panel.getByText(/^Not JSON/)).toBeVisible();

  await panel.getByLabel("Sample payload").fill(JSON.stringify({ order: { id: "ord_t1", total: 420 } }));
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(panel.getByRole("status").filter({ hasText: /^Decision/ })).toHaveText(
    "Decision: allow — Order ord_t1 may go through (completed)",
  );
  await expect(panel.getByText("order.total = 420 gte 10000 → false")).toBeVisible();
  await expect(canvas(page).getByRole("button", { name: /^Step allow, action: .*completed$/ })).toBeVisible();
  await expect(canvas(page).getByRole("button", { name: /^Step manager_approval, approval: .*not reached$/ })).toBeVisible();

  // A big order with the approval assumed rejected is blocked.
  await panel.getByLabel("Sample payload").fill(JSON.stringify({ order: { id: "ord_t2", total: 50000 } }));
  await panel.getByLabel("Approvals").selectOption("reject");
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(panel.getByRole("status").filter({ hasText: /^Decision/ })).toHaveText(
    "Decision: block — Order ord_t2 was not approved (completed)",
  );

  // The sample's fields are suggested in templates, with the outputs of the steps before this one.
  await panel.getByLabel("Sample payload").fill(JSON.stringify({ order: { id: "ord_t3", total: 80, channel: "web" } }));
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(panel.getByRole("status").filter({ hasText: /^Decision: allow/ })).toBeVisible();
  await canvas(page).getByRole("button", { name: /^Step allow,/ }).click();
  const reason = page.getByRole("region", { name: "Step allow" }).getByLabel("reason");
  await reason.fill("Sold {{");
  const suggested = () => reason.evaluate((input: HTMLInputElement) => Array.from(input.list?.options ?? [], (o) => o.value));
  await expect.poll(suggested).toContain("Sold {{order.channel}}");
  expect(await suggested()).toEqual(expect.arrayContaining(["Sold {{steps.big_order.output}}", "Sold {{steps.manager_approval.output}}"]));
  expect(await suggested()).not.toContain("Sold {{steps.block.output}}");
});

test("a test run takes an action's result from a mock", async ({ page, api }) => {
  await deploy(api, {
    workflow_id: "builder_mock",
    trigger: { type: "event", event: "quote.requested" },
    steps: [
      { id: "price", type: "http_request", config: { url: "https://pricing.example.com/q" } },
      {
        id: "ok",
        type: "condition",
        condition: { field: "steps.price.output.status", operator: "eq", value: 200 },
        on_true: "allow",
        on_false: "deny",
      },
      { id: "allow", type: "action", action: "allow" },
      { id: "deny", type: "action", action: "block", reason: "pricing answered {{steps.price.output.status}}" },
    ],
  });
  await openBuilder(page, "builder_mock");
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "Test" }).click();
  const panel = page.getByRole("region", { name: "Test" });
  await expect(panel.getByLabel("Event type")).toHaveValue("quote.requested");
  await panel.getByLabel("Sample payload").fill("{}");
  const decision = panel.getByRole("status").filter({ hasText: /^Decision/ });
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(decision).toHaveText(/^Decision: allow/);
  await panel.getByLabel("Mocks").fill(JSON.stringify({ price: { status: 503 } }));
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(decision).toHaveText("Decision: block — pricing answered 503 (completed)");
  await expect(panel.getByText("steps.price.output.status = 503 eq 200 → false")).toBeVisible();
});

test("rolling back from History makes the older version current", async ({ page, api }) => {
  const definition = orderCheck("builder_rollback");
  await deploy(api, definition);
  definition.steps[0]!.condition = { field: "order.total", operator: "gte", value: 5000 };
  const response = await api.put("/api/v1/workflows/builder_rollback", { data: definition });
  expect(response.status(), await response.text()).toBe(200);
  expect((await current(api, "builder_rollback")).version).toBe(2);

  await openBuilder(page, "builder_rollback");
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "History" }).click();
  const history = page.getByRole("region", { name: "History" });
  await history.getByRole("button", { name: "Compare version 1 with the canvas" }).click();
  const dialog = page.getByRole("dialog", { name: "Version 1 and the canvas" });
  await expect(dialog.getByRole("status").filter({ hasText: /differ/ })).toHaveText("1 line differs.");
  // Which steps changed, the two graphs with that step marked, and the lines side by side.
  await expect(dialog.getByRole("definition").filter({ hasText: /^big_order$/ })).toBeVisible();
  for (const graph of ["Graph of version 1", "Graph of the canvas"]) {
    const figure = dialog.getByRole("figure", { name: graph });
    await expect(figure.getByRole("group", { name: "Step big_order, condition: changed", exact: true })).toBeVisible();
    await expect(figure.getByRole("group", { name: "Step manager_approval, approval", exact: true })).toBeAttached();
  }
  await expect(dialog.getByRole("cell", { name: /"value": 10000/ })).toBeVisible();
  await expect(dialog.getByRole("cell", { name: /"value": 5000/ })).toBeVisible();
  await dialog.getByRole("button", { name: "Close" }).click();

  await history.getByRole("button", { name: "Roll back to version 1" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Make version 1 current" }).click();
  await expect(history.getByText("Version 1 is current again.")).toBeVisible();
  const stored = await current(api, "builder_rollback");
  expect(stored.version).toBe(1);
  expect(stored.definition.steps[0]?.condition?.value).toBe(10000);
  // The canvas, which had no unsaved change, follows the current version.
  await expect(page.getByRole("status").filter({ hasText: /^Version \d+$/ })).toHaveText("Version 1");
  await canvas(page).getByRole("button", { name: /^Step big_order,/ }).click();
  await expect(page.getByRole("region", { name: "Step big_order" }).getByLabel("Value", { exact: true })).toHaveValue("10000");
});

test("the order approval is built from an empty canvas, deployed, and decides orders", async ({ page, api }) => {
  await open(page, "/workflows", "Workflows");
  await page.getByRole("link", { name: "New workflow" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "New workflow" })).toBeVisible();
  await expect(canvas(page).getByRole("button", { name: /^Trigger: / })).toBeVisible();
  await expect(steps(page)).toHaveCount(0);

  const side = page.getByRole("complementary", { name: "Side panel" });
  await side.getByLabel("Workflow id").fill("order_approval_built");
  await side.getByLabel("Name").fill("Order approval, built");

  await canvas(page).getByRole("button", { name: /^Trigger: / }).click();
  await side.getByLabel("Event type").fill("order.checkout.initiated");

  await drop(page, "condition", 120);
  await expect(canvas(page).getByRole("button", { name: /^Step condition_1,/ })).toBeVisible();
  await drop(page, "block", 260);
  await expect(canvas(page).getByRole("button", { name: /^Step block_1,/ })).toBeVisible();
  await drop(page, "allow", 400);
  await expect(canvas(page).getByRole("button", { name: /^Step allow_1,/ })).toBeVisible();

  await canvas(page).getByRole("button", { name: /^Step condition_1,/ }).click();
  const step = side.getByRole("region", { name: "Step condition_1" });
  await step.getByLabel("Field", { exact: true }).fill("order.total");
  await step.getByLabel("Operator", { exact: true }).selectOption("gte");
  await step.getByLabel("Value", { exact: true }).fill("10000");
  await step.getByLabel(/^on_true/).selectOption("block_1");
  await step.getByLabel(/^on_false/).selectOption("allow_1");
  await canvas(page).getByRole("button", { name: /^Step block_1,/ }).click();
  // Typing {{ suggests the context's paths: the payload's fields and the other steps' outputs.
  const reason = side.getByRole("region", { name: "Step block_1" }).getByLabel("reason");
  await reason.fill("Order {{");
  const suggested = () => reason.evaluate((input: HTMLInputElement) => Array.from(input.list?.options ?? [], (o) => o.value));
  await expect.poll(suggested).toContain("Order {{order.id}}");
  expect(await suggested()).toContain("Order {{steps.condition_1.output}}");
  await reason.fill("Order {{order.id}} needs approval");

  await expect(page.getByRole("button", { name: "Problems (0)" })).toBeVisible();
  await page.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(page.getByText("Deployed version 1 of order_approval_built.")).toBeVisible();
  await expect(page).toHaveURL(/\/workflows\/order_approval_built\/edit$/);

  for (const [order, total, decision] of [
    ["ord_b15000", 15_000, "block"],
    ["ord_b500", 500, "allow"],
  ] as const) {
    const response = await api.post("/api/v1/events", {
      data: { event_type: "order.checkout.initiated", payload: { order: { id: order, total } } },
    });
    expect(response.status(), await response.text()).toBe(200);
    const answer = (await response.json()) as { executions: { workflow_id: string; decision: string | null }[] };
    const run = answer.executions.find((e) => e.workflow_id === "order_approval_built");
    expect(run?.decision, `${order} of ${total}`).toBe(decision);
  }
});

for (const theme of ["light", "dark"] as const) {
  test(`the builder's panels, code view and dialogs have no serious accessibility violation (${theme})`, async ({ page, api }) => {
    await deploy(api, orderCheck(`builder_axe_${theme}`));
    await chooseTheme(page, theme);
    await openBuilder(page, `builder_axe_${theme}`);
    const found: string[] = [];
    const check = async (what: string) => found.push(...(await seriousViolations(page, `builder, ${what} (${theme})`)));

    const panels = page.getByRole("toolbar", { name: "Panels" });
    await panels.getByRole("button", { name: "Test" }).click();
    await page.getByLabel("Sample payload").fill(JSON.stringify({ order: { id: "ord_a", total: 20000 } }));
    await page.getByRole("button", { name: "Run the test" }).click();
    await expect(page.getByRole("status").filter({ hasText: /^Decision/ })).toBeVisible();
    await check("a test run's path");

    await canvas(page).getByRole("button", { name: /^Step big_order,/ }).click();
    await page.getByRole("button", { name: "Add another comparison" }).click();
    await expect(page.getByRole("group", { name: "Group" })).toBeVisible();
    await check("a condition group selected");

    await canvas(page).getByRole("button", { name: /^Step manager_approval,/ }).click();
    await check("an approval selected");

    await drop(page, "http_request", 300);
    await expect(page.getByRole("region", { name: "Step http_request_1" })).toBeVisible();
    await check("an action's config form, with an error");

    await panels.getByRole("button", { name: /^Problems/ }).click();
    await check("the problems");

    await page.getByRole("button", { name: "Code", exact: true }).click();
    await expect(page.getByLabel("Workflow as JSON")).toHaveValue(/builder_axe/);
    await check("the code view");

    await panels.getByRole("button", { name: "Describe it in English" }).click();
    await check("the description");

    await panels.getByRole("button", { name: "History" }).click();
    await page.getByRole("button", { name: "Compare version 1 with the canvas" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByRole("status").filter({ hasText: /differ/ })).toBeVisible();
    for (const graph of ["Graph of version 1", "Graph of the canvas"]) {
      await expect(dialog.getByRole("figure", { name: graph }).getByRole("group", { name: /^Step big_order,/ })).toBeVisible();
    }
    await check("the compare dialog");

    expect(found, "axe on the builder's states: no serious or critical violation").toEqual([]);
  });
}
