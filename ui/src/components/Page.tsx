// A page's heading and title (React hoists <title> into the document's head).
export function PageHeader({
  title,
  documentTitle = title,
  children,
}: {
  title: string;
  /** The browser tab's title when it says more than the heading (a Settings section's name). */
  documentTitle?: string;
  children?: React.ReactNode;
}) {
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
      <title>{`${documentTitle} · Weir`}</title>
      <h1 className="text-xl font-semibold">{title}</h1>
      {children ? <div className="flex flex-wrap items-center gap-2">{children}</div> : null}
    </div>
  );
}
