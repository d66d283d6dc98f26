// Approving in the browser: the dialog with a reason, and the run it held goes on.
import { seed } from "./env";
import { expect, expectAccessible, open, test } from "./support";

test("approving a pending approval in the browser resumes its run", async ({ page, api }) => {
  const title = `order ${seed.toApproveOrder}`;
  await open(page, "/approvals", "Approvals");
  const pending = page.getByRole("region", { name: /^Pending/ });
  const request = pending.getByRole("listitem").filter({ has: page.getByRole("heading", { name: title }) });
  await expect(request).toHaveCount(1);
  await request.getByRole("button", { name: "Approve" }).click();

  const dialog = page.getByRole("dialog", { name: `Approve ${title}?` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole("textbox", { name: "Reason" })).toBeFocused();
  await expectAccessible(page, "the approval dialog");
  await dialog.getByRole("textbox", { name: "Reason" }).fill("known customer, checked by phone");
  await dialog.getByRole("button", { name: "Confirm approval" }).click();

  await expect(dialog).toBeHidden();
  await expect(page.getByRole("status").filter({ hasText: `Approved ${title}.` })).toBeVisible();
  await expect(request).toHaveCount(0);
  const history = page.getByRole("table", { name: /Decided approvals/ });
  await expect(history.getByRole("row").filter({ hasText: title })).toContainText("known customer, checked by phone");

  // The run that waited for it went on to the end, and was allowed.
  await expect
    .poll(async () => {
      const response = await api.get(`/api/v1/executions/${seed.toApproveExecution}`);
      const run = (await response.json()) as { status: string; decision: string | null };
      return `${run.status} ${run.decision}`;
    })
    .toBe("completed allow");
});
