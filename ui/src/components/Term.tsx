// One term of a summary's description list (`<dl>`): its name above its value.
export function Term({ term, wide, children }: { term: string; wide?: boolean; children: React.ReactNode }) {
  return (
    <div className={wide ? "sm:col-span-2 lg:col-span-4" : undefined}>
      <dt className="label">{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
