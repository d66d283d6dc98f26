// A modal dialog on the native <dialog>: the browser traps focus, makes the rest inert and
// closes it on Escape.
import { useEffect, useId, useRef } from "react";

export function Dialog({
  open,
  title,
  wide,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  /** Room for a definition or a table (`true`), or two graphs side by side (`"widest"`): most
   * dialogs are a few fields. */
  wide?: boolean | "widest";
  onClose: () => void;
  children: React.ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={onClose}
      className={`m-auto w-full ${wide === "widest" ? "max-w-6xl" : wide ? "max-w-3xl" : "max-w-md"} rounded-lg border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
    >
      {open ? (
        <div className="p-5">
          <h2 id={titleId} className="mb-3 text-lg font-semibold">
            {title}
          </h2>
          {children}
        </div>
      ) : null}
    </dialog>
  );
}
