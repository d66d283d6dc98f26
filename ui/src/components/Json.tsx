// A JSON value, pretty-printed in a scrollable block that the keyboard can reach.
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  const text = value === undefined ? "—" : JSON.stringify(value, null, 2);
  return (
    <pre
      tabIndex={0}
      aria-label={label}
      className="mono max-h-80 overflow-auto rounded-md bg-zinc-100 p-2 whitespace-pre-wrap break-all text-zinc-800 dark:bg-zinc-950 dark:text-zinc-200"
    >
      {text}
    </pre>
  );
}
