// Import a workflow from a JSON or YAML file, or from pasted text. The text goes to the server
// as written (with its media type), so a refusal's diagnostics name the lines the user sees;
// a stored version's warnings are shown before leaving.
import { useState } from "react";
import { Link } from "react-router";

import type { StoredWorkflow } from "../../api/types";
import { SelectField, TextAreaField } from "../../components/Field";
import { FormDialog } from "../../components/FormDialog";
import { WarningNotice } from "../../components/Notice";
import { Dialog } from "../../components/Dialog";
import { type DocumentFormat, useImportWorkflow } from "./api";

type FormatChoice = "detect" | DocumentFormat;

/** JSON when the file's name or the text's first character says so; YAML otherwise. */
export function detectFormat(text: string, fileName?: string): DocumentFormat {
  const name = fileName?.toLowerCase() ?? "";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  return /^\s*[{[]/.test(text) ? "json" : "yaml";
}

export function ImportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string>();
  const [choice, setChoice] = useState<FormatChoice>("detect");
  const [fileError, setFileError] = useState<string>();
  const [stored, setStored] = useState<StoredWorkflow>();
  const importWorkflow = useImportWorkflow();
  const format = choice === "detect" ? detectFormat(text, fileName) : choice;

  function reset() {
    setText("");
    setFileName(undefined);
    setChoice("detect");
    setFileError(undefined);
    setStored(undefined);
    importWorkflow.reset();
  }

  function close() {
    reset();
    onClose();
  }

  async function readFile(file: File | undefined) {
    setFileError(undefined);
    importWorkflow.reset();
    if (!file) return;
    try {
      setText(await file.text());
      setFileName(file.name);
    } catch {
      setFileError(`Could not read ${file.name}.`);
    }
  }

  if (stored) {
    return (
      <Dialog open={open} title="Workflow imported" onClose={close}>
        <p className="mb-3 text-sm" role="status">
          Stored <span className="mono">{stored.workflow_id}</span> as version {stored.version}
          {stored.enabled ? "; it is enabled." : "; it is disabled."}
        </p>
        {stored.warnings.length > 0 ? (
          <div className="mb-3">
            <WarningNotice details={stored.warnings}>
              <strong>
                {stored.warnings.length === 1 ? "One warning" : `${stored.warnings.length} warnings`}
              </strong>{" "}
              (stored anyway):
            </WarningNotice>
          </div>
        ) : null}
        <div className="flex flex-wrap justify-end gap-2">
          <button type="button" className="btn" onClick={reset}>
            Import another
          </button>
          <Link
            to={`/workflows/${encodeURIComponent(stored.workflow_id)}`}
            className="btn btn-primary no-underline hover:no-underline"
            onClick={close}
          >
            Open the workflow
          </Link>
        </div>
      </Dialog>
    );
  }

  return (
    <FormDialog
      open={open}
      wide
      title="Import a workflow"
      submitLabel="Import"
      pending={importWorkflow.isPending}
      error={importWorkflow.error}
      what="import the workflow"
      onClose={close}
      onSubmit={() => {
        if (!text.trim()) {
          setFileError("Choose a file or paste a definition first.");
          return;
        }
        importWorkflow.mutate({ text, format }, { onSuccess: setStored });
      }}
    >
      <p className="muted text-sm">
        A definition with the id of an existing workflow becomes its next version; any other becomes a new
        workflow.
      </p>
      <div>
        <label htmlFor="import-file" className="label">
          File (.json, .yaml or .yml)
        </label>
        <input
          id="import-file"
          type="file"
          accept=".json,.yaml,.yml,application/json,application/yaml,text/yaml"
          className="block w-full text-sm file:mr-3 file:rounded-md file:border file:border-zinc-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium dark:file:border-zinc-700 dark:file:bg-zinc-900 dark:file:text-zinc-100"
          onChange={(e) => void readFile(e.target.files?.[0])}
        />
      </div>
      <TextAreaField
        label="Definition"
        hint={fileName ? `From ${fileName}; edit it here before importing if you like.` : "Or paste JSON or YAML here."}
        error={fileError}
        rows={14}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setFileError(undefined);
        }}
      />
      <SelectField
        label="Format"
        className="max-w-xs"
        hint={choice === "detect" ? `Sent as ${format === "json" ? "JSON" : "YAML"}.` : undefined}
        value={choice}
        onChange={(e) => setChoice(e.target.value as FormatChoice)}
      >
        <option value="detect">Detect</option>
        <option value="json">JSON</option>
        <option value="yaml">YAML</option>
      </SelectField>
    </FormDialog>
  );
}
