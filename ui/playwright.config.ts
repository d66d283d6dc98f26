// End-to-end tests of the console: Playwright drives Debian's chromium (never a downloaded
// browser) against a real `weir serve` that the Rust test crates/weir/tests/it/console_e2e.rs
// starts, seeds and describes in WEIR_E2E_* variables. Playwright starts no server of its own.
import path from "node:path";

import { defineConfig } from "@playwright/test";

import { baseURL, scratch, sessionState } from "./e2e/env";

export default defineConfig({
  testDir: "e2e",
  // Playwright's own artefacts (traces, failure screenshots) stay out of the working tree.
  outputDir: path.join(scratch, "results"),
  // One browser, one page at a time: the machine is small, and the server is shared.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 30_000,
  globalTimeout: 240_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    colorScheme: "light",
    locale: "en-US",
    timezoneId: "UTC",
    launchOptions: { executablePath: process.env.WEIR_CHROMIUM || "/usr/bin/chromium" },
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "setup", testMatch: /session\.setup\.ts/ },
    { name: "console", dependencies: ["setup"], use: { storageState: sessionState } },
  ],
});
