// Things defined by a JSON document and known by name (connectors, data sources): the list, a
// JSON editor to create or replace one (the text must parse before it is sent; the server's
// refusal is shown field by field), and delete.
import { useState } from "react";

import { Dialog } from "../../components/Dialog";
import { TextField } from "../../components/Field";
import { ConfirmDialog, FormDialog } from "../../components/FormDialog";
import { JsonBlock } from "../../components/Json";
import { JsonField, useJsonText } from "../../components/JsonField";
import { PermissionNote } from "../../components/PermissionNote";
import { DateTime } from "../../components/Time";
import type { SaveDefinition } from "./api";
import { ResourceSection, RowActions } from "./ResourceSection";

export type DefinitionItem = { name: string; definition: Record<string, unknown>; updated_at: string };

type Write<Vars> = {
  mutate: (vars: Vars, options?: { onSuccess?: () => void }) => void;
  reset: () => void;
  isPending: boolean;
  error: unknown;
};

export function DefinitionsSection<T>({
  title,
  noun,
  description,
  query,
  items,
  summaryHeading,
  summary,
  nameInDefinition,
  nameHint,
  example,
  definitionHint,
  save,
  remove,
  deleteWarning,
  canWrite,
}: {
  title: string;
  /** One of them, within a sentence ("connector"). */
  noun: string;
  description: React.ReactNode;
  query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined };
  items: (data: T) => DefinitionItem[];
  summaryHeading: string;
  summary: (item: DefinitionItem) => React.ReactNode;
  /** The name is the definition's `name` field (connectors), not a field of its own. */
  nameInDefinition: boolean;
  nameHint?: string;
  /** What a new definition starts as. */
  example: Record<string, unknown>;
  definitionHint: React.ReactNode;
  save: Write<SaveDefinition>;
  remove: Write<string>;
  deleteWarning: React.ReactNode;
  canWrite: boolean;
}) {
  const [editing, setEditing] = useState<DefinitionItem | "new">();
  const [deleting, setDeleting] = useState<DefinitionItem>();
  const [done, setDone] = useState<string>();

  return (
    <>
      <ResourceSection
        title={title}
        description={description}
        done={done}
        actions={
          canWrite ? (
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                save.reset();
                setEditing("new");
              }}
            >
              New {noun}
            </button>
          ) : (
            <PermissionNote permission="admin" action={`change ${title.toLowerCase()}`} />
          )
        }
        query={query}
        isEmpty={(d) => items(d).length === 0}
      >
        {(data) => (
          <table className="table">
            <caption className="sr-only">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">{summaryHeading}</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items(data).map((item) => (
                <tr key={item.name}>
                  <td className="mono font-medium">{item.name}</td>
                  <td>{summary(item)}</td>
                  <td>
                    <DateTime value={item.updated_at} />
                  </td>
                  <td>
                    <RowActions>
                      <button
                        type="button"
                        className="btn"
                        onClick={() => {
                          save.reset();
                          setEditing(item);
                        }}
                      >
                        {canWrite ? "Edit" : "View"}
                        <span className="sr-only"> {item.name}</span>
                      </button>
                      {canWrite ? (
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            remove.reset();
                            setDeleting(item);
                          }}
                        >
                          Delete<span className="sr-only"> {item.name}</span>
                        </button>
                      ) : null}
                    </RowActions>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </ResourceSection>

      {editing ? (
        <DefinitionDialog
          key={editing === "new" ? "new" : editing.name}
          noun={noun}
          item={editing === "new" ? undefined : editing}
          example={example}
          nameInDefinition={nameInDefinition}
          nameHint={nameHint}
          definitionHint={definitionHint}
          readOnly={!canWrite}
          save={save}
          onClose={() => setEditing(undefined)}
          onSaved={(name, created) => {
            setEditing(undefined);
            setDone(`${created ? "Created" : "Saved"} the ${noun} ${name}.`);
          }}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the ${noun} ${deleting?.name ?? ""}?`}
        confirmLabel={`Delete the ${noun}`}
        pending={remove.isPending}
        error={remove.error}
        what={`delete the ${noun}`}
        onClose={() => setDeleting(undefined)}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.name, {
            onSuccess: () => {
              setDone(`Deleted the ${noun} ${deleting.name}.`);
              setDeleting(undefined);
            },
          })
        }
      >
        {deleteWarning}
      </ConfirmDialog>
    </>
  );
}

function DefinitionDialog({
  noun,
  item,
  example,
  nameInDefinition,
  nameHint,
  definitionHint,
  readOnly,
  save,
  onClose,
  onSaved,
}: {
  noun: string;
  item: DefinitionItem | undefined;
  example: Record<string, unknown>;
  nameInDefinition: boolean;
  nameHint?: string;
  definitionHint: React.ReactNode;
  readOnly: boolean;
  save: Write<SaveDefinition>;
  onClose: () => void;
  onSaved: (name: string, created: boolean) => void;
}) {
  const json = useJsonText(item?.definition ?? example);
  const [name, setName] = useState("");

  function submit() {
    if (!json.check()) return;
    const definition = json.value as Record<string, unknown>;
    const saved = item?.name ?? (nameInDefinition ? String(definition.name ?? "") : name.trim());
    save.mutate({ name: saved, definition, isNew: !item }, { onSuccess: () => onSaved(saved, !item) });
  }

  if (readOnly && item) {
    return (
      <Dialog open wide title={`The ${noun} ${item.name}`} onClose={onClose}>
        <div className="mb-2">
          <PermissionNote permission="admin" action={`change this ${noun}`} />
        </div>
        <JsonBlock value={item.definition} label={`Definition of the ${noun} ${item.name}`} />
        <div className="mt-4 flex justify-end">
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <FormDialog
      open
      wide
      title={item ? `Edit the ${noun} ${item.name}` : `New ${noun}`}
      submitLabel={item ? "Save" : `Create the ${noun}`}
      pending={save.isPending}
      error={save.error}
      what={item ? `save the ${noun}` : `create the ${noun}`}
      onClose={onClose}
      onSubmit={submit}
    >
      {!item && !nameInDefinition ? (
        <TextField label="Name" required hint={nameHint} value={name} onChange={(e) => setName(e.target.value)} />
      ) : null}
      <JsonField json={json} label="Definition (JSON)" hint={definitionHint} rows={16} />
    </FormDialog>
  );
}
