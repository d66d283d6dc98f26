// Every page of the console, as the accessibility check and the screenshots visit them.
import { type Page } from "@playwright/test";

import { seed } from "./env";
import { expect, open, settled } from "./support";

export type ConsolePage = {
  /** The screenshot's file name, and how a test names the page. */
  name: string;
  url: string;
  heading: string | RegExp;
  /** Anything to wait for beyond the heading and "Loading…". */
  ready?: (page: Page) => Promise<void>;
};

export const SIGNED_IN_PAGES: ConsolePage[] = [
  {
    name: "dashboard",
    url: "/",
    heading: "Dashboard",
    ready: (page) => expect(page.getByRole("img", { name: /^Executions per hour/ })).toBeVisible(),
  },
  {
    name: "workflows",
    url: "/workflows",
    heading: "Workflows",
    ready: (page) => expect(page.getByRole("table", { name: "Workflows" })).toBeVisible(),
  },
  {
    name: "workflow",
    url: `/workflows/${seed.workflowId}`,
    heading: seed.workflowName,
    ready: async (page) => {
      await expect(page.getByRole("region", { name: "Executions", exact: true }).getByRole("table")).toBeVisible();
      await expect(page.getByRole("img", { name: /^Executions per hour/ })).toBeVisible();
    },
  },
  {
    name: "executions",
    url: "/executions",
    heading: "Executions",
    ready: (page) => expect(page.getByRole("status", { name: "Live updates" })).toHaveText("Live"),
  },
  {
    name: "execution",
    url: `/executions/${seed.approvedExecution}`,
    heading: `Execution of ${seed.workflowId}`,
    ready: async (page) => {
      await expect(page.getByRole("region", { name: "Timeline" }).getByRole("listitem").first()).toBeVisible();
      await expect(page.getByRole("figure", { name: /^Graph of/ })).toBeVisible();
    },
  },
  {
    name: "execution-waiting",
    url: `/executions/${seed.waitingExecution}`,
    heading: `Execution of ${seed.workflowId}`,
    ready: (page) => expect(page.getByRole("region", { name: "Timeline" }).getByRole("listitem").first()).toBeVisible(),
  },
  {
    name: "builder",
    url: `/workflows/${seed.workflowId}/edit`,
    heading: `Edit ${seed.workflowId}`,
    ready: (page) => expect(page.getByRole("region", { name: "Canvas" }).getByRole("button", { name: /^Step / })).toHaveCount(4),
  },
  { name: "approvals", url: "/approvals", heading: "Approvals" },
  { name: "settings", url: "/settings", heading: "Settings" },
];

export const SIGN_IN_PAGE: ConsolePage = { name: "sign-in", url: "/sign-in", heading: "Sign in to Weir" };

/** Opens the page and waits until it has loaded. */
export async function visit(page: Page, target: ConsolePage) {
  await open(page, target.url, target.heading);
  await target.ready?.(page);
  await settled(page);
}
