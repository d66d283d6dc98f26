// A dialog holding one form: its fields, the server's refusal when there is one (the dialog
// stays open, nothing typed is lost), and Cancel / submit. Confirmations are the same dialog
// without fields.
import { Dialog } from "./Dialog";
import { ErrorNotice } from "./Notice";

export function FormDialog({
  open,
  title,
  wide,
  submitLabel,
  danger,
  pending,
  error,
  what,
  readOnly,
  onSubmit,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  wide?: boolean;
  /** Shown to someone who may not change it: the fields, and Close. */
  readOnly?: boolean;
  submitLabel: string;
  danger?: boolean;
  pending?: boolean;
  /** The last attempt's error, shown above the buttons. */
  error?: unknown;
  /** What failed, within a sentence ("create the key"). */
  what?: string;
  onSubmit: () => void;
  onClose: () => void;
  children?: React.ReactNode;
}) {
  return (
    <Dialog open={open} title={title} wide={wide} onClose={onClose}>
      <form
        aria-busy={pending || undefined}
        onSubmit={(e) => {
          e.preventDefault();
          if (!pending && !readOnly) onSubmit();
        }}
      >
        <div className="space-y-3">{children}</div>
        {error ? (
          <div className="mt-3">
            <ErrorNotice error={error} what={what} />
          </div>
        ) : null}
        <div className="mt-4 flex justify-end gap-2">
          <button type="button" className="btn" onClick={onClose}>
            {readOnly ? "Close" : "Cancel"}
          </button>
          {readOnly ? null : (
            <button
              type="submit"
              className={`btn ${danger ? "btn-danger" : "btn-primary"}`}
              disabled={pending}
            >
              {submitLabel}
            </button>
          )}
        </div>
      </form>
    </Dialog>
  );
}

/** "Delete this?": a confirmation with what it will do, and the server's refusal if any. */
export function ConfirmDialog({
  open,
  title,
  confirmLabel,
  danger = true,
  pending,
  error,
  what,
  onConfirm,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  pending?: boolean;
  error?: unknown;
  what?: string;
  onConfirm: () => void;
  onClose: () => void;
  children: React.ReactNode;
}) {
  return (
    <FormDialog
      open={open}
      title={title}
      submitLabel={confirmLabel}
      danger={danger}
      pending={pending}
      error={error}
      what={what}
      onSubmit={onConfirm}
      onClose={onClose}
    >
      <div className="text-sm">{children}</div>
    </FormDialog>
  );
}
