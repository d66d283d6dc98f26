// Unsaved changes kept in the browser (localStorage), one draft per workflow (and one for a new
// workflow), so a reload or a closed tab loses nothing; offered back when the builder opens.
import type { Definition } from "./definition";

export type Draft = { definition: Definition; savedAt: string };

const key = (workflowId: string | undefined) => `weir-builder-draft:${workflowId ?? "new"}`;

export function loadDraft(workflowId: string | undefined): Draft | undefined {
  try {
    const raw = localStorage.getItem(key(workflowId));
    if (!raw) return undefined;
    const draft = JSON.parse(raw) as Draft;
    return typeof draft.definition === "object" && draft.definition !== null ? draft : undefined;
  } catch {
    // A draft that no longer reads (storage cleared half-way, another version's shape) is none.
    return undefined;
  }
}

export function saveDraft(workflowId: string | undefined, definition: Definition) {
  try {
    localStorage.setItem(key(workflowId), JSON.stringify({ definition, savedAt: new Date().toISOString() }));
  } catch {
    // Storage full or refused (private mode): the builder works on, without a draft.
  }
}

export function clearDraft(workflowId: string | undefined) {
  localStorage.removeItem(key(workflowId));
}

/** The sample payload last tested with, per workflow. */
const payloadKey = (workflowId: string | undefined) => `weir-builder-payload:${workflowId ?? "new"}`;

export function loadPayload(workflowId: string | undefined): string | undefined {
  return localStorage.getItem(payloadKey(workflowId)) ?? undefined;
}

export function savePayload(workflowId: string | undefined, text: string) {
  try {
    localStorage.setItem(payloadKey(workflowId), text);
  } catch {
    // As above: remembering the payload is a convenience.
  }
}
