// Where the user acts: the header names the tenant and environment; the Environment select moves
// the session to another environment of the tenant and the page stays; another tenant is a sign-in.
import { seed } from "./env";
import { expect, open, test } from "./support";

// A session of its own: switching ends the session it trades, and the other tests share theirs.
test.use({ storageState: { cookies: [], origins: [] } });

test("switching environment keeps the page and shows that environment's data", async ({ page }) => {
  const signedIn = await page.request.post("/api/v1/auth/login", {
    data: { email: seed.email, password: seed.password },
  });
  expect(signedIn.status(), await signedIn.text()).toBe(201);

  await open(page, "/workflows", "Workflows");
  const banner = page.getByRole("banner");
  await expect(banner).toContainText("Tenant default");
  const environment = banner.getByRole("combobox", { name: "Environment" });
  await expect(environment).toHaveValue("production");
  const row = page.getByRole("table", { name: "Workflows" }).getByRole("row").filter({ hasText: seed.workflowId });
  await expect(row).toHaveCount(1);

  // Every tenant starts with development and production; the workflows were deployed in production.
  await environment.focus();
  await environment.selectOption("development");
  await expect(page.getByRole("status").filter({ hasText: "Now in the development environment of default." })).toBeAttached();
  await expect(page.getByText("No workflow matches.")).toBeVisible();
  await expect(page).toHaveURL(/\/workflows$/);
  await expect(environment).toBeFocused();

  await environment.selectOption("production");
  await expect(row).toHaveCount(1);

  // Another tenant has users of its own: its sign-in, with the tenant to fill in.
  await banner.getByRole("link", { name: "Sign in to another tenant…" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to Weir" })).toBeVisible();
  await expect(page.getByLabel("Tenant", { exact: true })).toBeFocused();
  await expect(page.getByLabel("Email", { exact: true })).toHaveValue(seed.email);
});
