// The statistics' range (last 24 hours, 7 days, 30 days) as radio buttons drawn as one segmented
// control: arrow keys move between them, as in any radio group. Kept in the URL (?range=7d), so a
// link or Back keeps it.
import { useId } from "react";

import { useSearchParam } from "../../components/useSearchParam";
import { RANGES, type Range, rangeOf } from "./api";

/** The range the URL names, and a setter (the page's default range leaves the URL bare). */
export function useRange(fallback: Range = RANGES[0]): [Range, (range: Range) => void] {
  const [params, setParam] = useSearchParam();
  return [rangeOf(params.get("range"), fallback), (range) => setParam("range", range === fallback ? "" : range.key)];
}

export function RangePicker({ value, onChange }: { value: Range; onChange: (range: Range) => void }) {
  const name = useId();
  return (
    <fieldset className="flex items-center gap-2">
      <legend className="sr-only">Range</legend>
      <span aria-hidden="true" className="muted text-sm">
        Last
      </span>
      <div className="inline-flex overflow-hidden rounded-md border border-zinc-300 bg-white shadow-sm dark:border-zinc-700 dark:bg-zinc-900">
        {RANGES.map((range) => (
          <label
            key={range.key}
            className={
              "relative cursor-pointer border-zinc-300 px-3 py-1.5 text-sm font-medium not-first:border-l dark:border-zinc-700 " +
              "has-focus-visible:outline-2 has-focus-visible:-outline-offset-2 has-focus-visible:outline-sky-500 " +
              "has-checked:bg-sky-700 has-checked:text-white " +
              "hover:bg-zinc-100 has-checked:hover:bg-sky-800 dark:hover:bg-zinc-800"
            }
          >
            <input
              type="radio"
              name={name}
              // Over the whole label, unseen: a click lands on the radio itself.
              className="absolute inset-0 m-0 cursor-pointer appearance-none opacity-0"
              value={range.key}
              checked={range === value}
              onChange={() => onChange(range)}
            />
            <span className="sr-only">Last </span>
            {range.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
