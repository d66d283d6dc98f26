// Signs in once through the API; the other tests start with this session's cookie (the sign-in
// form itself is tested in sign-in.spec.ts).
import { expect, test as setup } from "@playwright/test";

import { seed, sessionState } from "./env";

setup("sign in for the other tests", async ({ request }) => {
  const response = await request.post("/api/v1/auth/login", {
    data: { email: seed.email, password: seed.password },
  });
  expect(response.status(), await response.text()).toBe(201);
  await request.storageState({ path: sessionState });
});
