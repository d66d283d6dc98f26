// What the Rust side started and made for these tests, from its WEIR_E2E_* variables.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

function need(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run these tests through \`cargo test -p weir --test it console_e2e\`, which starts and seeds the server`,
    );
  }
  return value;
}

/** The server, e.g. http://127.0.0.1:40123. */
export const baseURL = need("WEIR_E2E_BASE_URL");

/** Scratch space of this run, one per server (its port), the same in every Playwright process. */
export const scratch = path.join(os.tmpdir(), `weir-e2e-${new URL(baseURL).port}`);

/** The signed-in session the setup project keeps for the other tests. */
export const sessionState = path.join(scratch, "session.json");

/** What the server holds when the tests start. */
export const seed = {
  /** An admin user, member of the team sales_manager. */
  email: need("WEIR_E2E_EMAIL"),
  password: need("WEIR_E2E_PASSWORD"),
  /** An editor API key: the tests' own calls (events, reads), never typed into the browser. */
  apiKey: need("WEIR_E2E_API_KEY"),
  /** examples/quickstart.workflow.yaml: orders of $10,000 or more wait for a sales manager. */
  workflowId: need("WEIR_E2E_WORKFLOW_ID"),
  workflowName: need("WEIR_E2E_WORKFLOW_NAME"),
  /** The event type that starts it. */
  eventType: need("WEIR_E2E_EVENT_TYPE"),
  /** A big order approved through the API: its run took every step to allow. */
  approvedExecution: need("WEIR_E2E_APPROVED_EXECUTION_ID"),
  /** A big order whose approval stays pending. */
  waitingExecution: need("WEIR_E2E_WAITING_EXECUTION_ID"),
  /** A big order the approvals test approves in the browser: its order id and its run. */
  toApproveOrder: need("WEIR_E2E_TO_APPROVE_ORDER_ID"),
  toApproveExecution: need("WEIR_E2E_TO_APPROVE_EXECUTION_ID"),
};

/**
 * Where screenshots go (WEIR_SCREENSHOTS, relative to the repository's root), or nothing: a
 * normal run takes none, so it leaves the working tree as it was.
 */
export const screenshotDir = process.env.WEIR_SCREENSHOTS
  ? path.resolve(fileURLToPath(new URL("../..", import.meta.url)), process.env.WEIR_SCREENSHOTS)
  : undefined;
