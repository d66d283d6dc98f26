// Signing in through the form, with a wrong password first.
import { seed } from "./env";
import { expect, test } from "./support";

test.use({ storageState: { cookies: [], origins: [] } });

test("a wrong password is refused with a message, and the right one opens the dashboard", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to Weir" })).toBeVisible();

  await page.getByLabel("Email", { exact: true }).fill(seed.email);
  await page.getByLabel("Password", { exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText(/password/i);
  await expect(page).toHaveURL(/\/sign-in/);

  await page.getByLabel("Password", { exact: true }).fill(seed.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("banner")).toContainText(seed.email);
});

test("signing out ends the session", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill(seed.email);
  await page.getByLabel("Password", { exact: true }).fill(seed.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Dashboard" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to Weir" })).toBeVisible();
  // The session is gone on the server too: a signed-in page sends the browser back here.
  await page.goto("/executions");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fexecutions/);
});
