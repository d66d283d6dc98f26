// Screenshots of every page for the documentation (docs/console.md, README.md), at 1280×800 in
// the light theme, and one in the dark. Only when WEIR_SCREENSHOTS names a folder:
//   WEIR_SCREENSHOTS=docs/screenshots cargo test -p weir --test it console_e2e
import { screenshotDir } from "./env";
import { SIGN_IN_PAGE, SIGNED_IN_PAGES, visit } from "./pages";
import { chooseTheme, expect, screenshot, test } from "./support";

test.skip(!screenshotDir, "WEIR_SCREENSHOTS is not set");

for (const target of SIGNED_IN_PAGES) {
  test(`screenshot of ${target.name}`, async ({ page }) => {
    await chooseTheme(page, "light");
    await visit(page, target);
    await screenshot(page, target.name);
  });
}

test("screenshot of the execution in the dark theme", async ({ page }) => {
  await chooseTheme(page, "dark");
  const execution = SIGNED_IN_PAGES.find((p) => p.name === "execution");
  if (!execution) throw new Error("no execution page");
  await visit(page, execution);
  await screenshot(page, "execution-dark");
});

test("screenshot of a test run in the builder", async ({ page }) => {
  await chooseTheme(page, "light");
  const builder = SIGNED_IN_PAGES.find((p) => p.name === "builder");
  if (!builder) throw new Error("no builder page");
  await visit(page, builder);
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "Test" }).click();
  const panel = page.getByRole("region", { name: "Test" });
  await panel.getByLabel("Sample payload").fill(JSON.stringify({ order: { id: "ord_2001", total: 18500 } }, null, 2));
  await panel.getByLabel("Approvals").selectOption("approve");
  await panel.getByRole("button", { name: "Run the test" }).click();
  await expect(panel.getByRole("status").filter({ hasText: /^Decision: allow/ })).toBeVisible();
  await panel.getByRole("region", { name: "Test result" }).scrollIntoViewIfNeeded();
  await screenshot(page, "builder-test");
});

test("screenshot of a condition in the builder, dark theme", async ({ page }) => {
  await chooseTheme(page, "dark");
  const builder = SIGNED_IN_PAGES.find((p) => p.name === "builder");
  if (!builder) throw new Error("no builder page");
  await visit(page, builder);
  await page.getByRole("region", { name: "Canvas" }).getByRole("button", { name: /^Step big_order,/ }).click();
  await expect(page.getByRole("region", { name: "Step big_order" })).toBeVisible();
  await screenshot(page, "builder-dark");
});

test("screenshot of a version compared with the canvas in the builder", async ({ page }) => {
  await chooseTheme(page, "light");
  const builder = SIGNED_IN_PAGES.find((p) => p.name === "builder");
  if (!builder) throw new Error("no builder page");
  await visit(page, builder);
  // An unsaved change on the canvas: a threshold raised, and a delay added after the condition.
  await page.getByRole("region", { name: "Canvas" }).getByRole("button", { name: /^Step big_order,/ }).click();
  await page.getByRole("region", { name: "Step big_order" }).getByLabel("Value", { exact: true }).fill("25000");
  await page.getByRole("region", { name: "Palette" }).getByRole("button", { name: "delay", exact: true }).click();
  await page.getByRole("toolbar", { name: "Panels" }).getByRole("button", { name: "History" }).click();
  await page.getByRole("button", { name: "Compare version 1 with the canvas" }).click();
  const dialog = page.getByRole("dialog");
  for (const graph of ["Graph of version 1", "Graph of the canvas"]) {
    await expect(dialog.getByRole("figure", { name: graph }).getByRole("group", { name: /^Step big_order,/ })).toBeVisible();
  }
  await screenshot(page, "builder-compare");
});

test.describe(() => {
  test.use({ storageState: { cookies: [], origins: [] } });
  test("screenshot of sign-in", async ({ page }) => {
    await chooseTheme(page, "light");
    await visit(page, SIGN_IN_PAGE);
    await screenshot(page, SIGN_IN_PAGE.name);
  });
});
