// axe on every page, in the light and the dark theme: no serious or critical violation.
import { expectAccessible, chooseTheme, test } from "./support";
import { SIGN_IN_PAGE, SIGNED_IN_PAGES, visit } from "./pages";

for (const theme of ["light", "dark"] as const) {
  test.describe(`${theme} theme`, () => {
    test.beforeEach(async ({ page }) => chooseTheme(page, theme));

    for (const target of SIGNED_IN_PAGES) {
      test(`${target.name} has no serious accessibility violation`, async ({ page }) => {
        await visit(page, target);
        await expectAccessible(page, `${target.url} (${theme})`);
      });
    }

    test.describe(() => {
      test.use({ storageState: { cookies: [], origins: [] } });
      test("sign-in has no serious accessibility violation", async ({ page }) => {
        await visit(page, SIGN_IN_PAGE);
        await expectAccessible(page, `${SIGN_IN_PAGE.url} (${theme})`);
      });
    });
  });
}
