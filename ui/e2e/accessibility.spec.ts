// axe on every page, in the light and the dark theme: no serious or critical violation.
import { SIGN_IN_PAGE, SIGNED_IN_PAGES, visit } from "./pages";
import { chooseTheme, expect, expectAccessible, seriousViolations, settled, test } from "./support";

const SETTINGS = SIGNED_IN_PAGES.find((p) => p.name === "settings")!;

for (const theme of ["light", "dark"] as const) {
  test.describe(`${theme} theme`, () => {
    test.beforeEach(async ({ page }) => chooseTheme(page, theme));

    for (const target of SIGNED_IN_PAGES.filter((p) => p !== SETTINGS)) {
      test(`${target.name} has no serious accessibility violation`, async ({ page }) => {
        await visit(page, target);
        await expectAccessible(page, `${target.url} (${theme})`);
      });
    }

    test("settings and each of its sections have no serious accessibility violation", async ({ page }) => {
      await visit(page, SETTINGS);
      const found = await seriousViolations(page, `${SETTINGS.url} (${theme})`);
      const nav = page.getByRole("navigation", { name: "Settings sections" });
      const names = await nav.getByRole("link").allTextContents();
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const link = nav.getByRole("link", { name, exact: true });
        await link.click();
        await expect(link).toHaveAttribute("aria-current", "page");
        await settled(page);
        found.push(...(await seriousViolations(page, `${new URL(page.url()).pathname} (${theme})`)));
      }
      expect(found, "axe on every settings section: no serious or critical violation").toEqual([]);
    });

    test.describe(() => {
      test.use({ storageState: { cookies: [], origins: [] } });
      test("sign-in has no serious accessibility violation", async ({ page }) => {
        await visit(page, SIGN_IN_PAGE);
        await expectAccessible(page, `${SIGN_IN_PAGE.url} (${theme})`);
      });
    });
  });
}
