// Email templates: what send_email and notify steps send by name. Create, edit, delete; the
// subject and bodies may hold {{templates}} over the run's context. Changing them needs
// workflows:write.
import { useState } from "react";

import type { EmailTemplate } from "../../api/types";
import { useCan } from "../../app/auth";
import { TextAreaField, TextField } from "../../components/Field";
import { ConfirmDialog, FormDialog } from "../../components/FormDialog";
import { PermissionNote } from "../../components/PermissionNote";
import { DateTime } from "../../components/Time";
import { useCreateEmailTemplate, useDeleteEmailTemplate, useEmailTemplates, useUpdateEmailTemplate } from "./api";
import { ResourceSection, RowActions } from "./ResourceSection";

export function EmailTemplatesSettings() {
  const templates = useEmailTemplates();
  const canWrite = useCan("workflows:write");
  const remove = useDeleteEmailTemplate();
  const [editing, setEditing] = useState<EmailTemplate | "new">();
  const [deleting, setDeleting] = useState<EmailTemplate>();
  const [done, setDone] = useState<string>();

  return (
    <>
      <ResourceSection
        title="Email templates"
        description={
          <>
            Steps send them by name (<span className="mono">{'"template": "order_approval_required"'}</span>). Subject and
            bodies may use <span className="mono">{"{{order.id}}"}</span>-style templates over the run&apos;s context.
          </>
        }
        done={done}
        actions={
          canWrite ? (
            <button type="button" className="btn btn-primary" onClick={() => setEditing("new")}>
              New email template
            </button>
          ) : (
            <PermissionNote permission="workflows:write" action="change email templates" />
          )
        }
        query={templates}
        isEmpty={(d) => d.email_templates.length === 0}
      >
        {(data) => (
          <table className="table">
            <caption className="sr-only">Email templates</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Subject</th>
                <th scope="col">Bodies</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.email_templates.map((template) => (
                <tr key={template.name}>
                  <td className="mono font-medium">{template.name}</td>
                  <td className="max-w-md break-words">{template.subject}</td>
                  <td className="muted">{[template.text ? "text" : null, template.html ? "HTML" : null].filter(Boolean).join(", ") || "—"}</td>
                  <td>
                    <DateTime value={template.updated_at} />
                  </td>
                  <td>
                    <RowActions>
                      <button type="button" className="btn" onClick={() => setEditing(template)}>
                        {canWrite ? "Edit" : "View"}
                        <span className="sr-only"> {template.name}</span>
                      </button>
                      {canWrite ? (
                        <button
                          type="button"
                          className="btn"
                          onClick={() => {
                            remove.reset();
                            setDeleting(template);
                          }}
                        >
                          Delete<span className="sr-only"> {template.name}</span>
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
        <TemplateDialog
          key={editing === "new" ? "new" : editing.name}
          template={editing === "new" ? undefined : editing}
          readOnly={!canWrite}
          onClose={() => setEditing(undefined)}
          onSaved={(template, created) => {
            setEditing(undefined);
            setDone(`${created ? "Created" : "Saved"} the template ${template.name}.`);
          }}
        />
      ) : null}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete the template ${deleting?.name ?? ""}?`}
        confirmLabel="Delete the template"
        pending={remove.isPending}
        error={remove.error}
        what="delete the template"
        onClose={() => setDeleting(undefined)}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.name, {
            onSuccess: () => {
              setDone(`Deleted the template ${deleting.name}.`);
              setDeleting(undefined);
            },
          })
        }
      >
        <p>Steps that send it by name fail from now on.</p>
      </ConfirmDialog>
    </>
  );
}

function TemplateDialog({
  template,
  readOnly,
  onClose,
  onSaved,
}: {
  template: EmailTemplate | undefined;
  readOnly: boolean;
  onClose: () => void;
  onSaved: (template: EmailTemplate, created: boolean) => void;
}) {
  const create = useCreateEmailTemplate();
  const update = useUpdateEmailTemplate();
  const save = template ? update : create;
  const [name, setName] = useState("");
  const [subject, setSubject] = useState(template?.subject ?? "");
  const [text, setText] = useState(template?.text ?? "");
  const [html, setHtml] = useState(template?.html ?? "");

  function submit() {
    const body = { subject: subject.trim(), text: text || null, html: html || null };
    if (template) update.mutate({ id: template.name, body }, { onSuccess: (t) => onSaved(t, false) });
    else create.mutate({ ...body, name: name.trim() }, { onSuccess: (t) => onSaved(t, true) });
  }

  return (
    <FormDialog
      open
      wide
      title={template ? `${readOnly ? "The" : "Edit the"} template ${template.name}` : "New email template"}
      submitLabel={template ? "Save" : "Create the template"}
      readOnly={readOnly}
      pending={save.isPending}
      error={save.error}
      what={template ? "save the template" : "create the template"}
      onClose={onClose}
      onSubmit={submit}
    >
      {readOnly ? <PermissionNote permission="workflows:write" action="change email templates" /> : null}
      {template ? null : (
        <TextField
          label="Name"
          required
          pattern="[A-Za-z0-9_.\-]+"
          hint="Letters, digits, _, - and ."
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      )}
      <TextField
        label="Subject"
        required
        readOnly={readOnly}
        hint="One line."
        value={subject}
        onChange={(e) => setSubject(e.target.value.replace(/[\r\n]/g, " "))}
      />
      <TextAreaField
        label="Text body"
        rows={6}
        readOnly={readOnly}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <TextAreaField
        label="HTML body"
        rows={6}
        readOnly={readOnly}
        hint="Sent as the HTML part; the text body is the plain part."
        value={html}
        onChange={(e) => setHtml(e.target.value)}
      />
    </FormDialog>
  );
}
