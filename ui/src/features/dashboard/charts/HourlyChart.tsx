// An hourly chart of the statistics with everything around its picture: the legend, and the
// same figures as a table, visually hidden until "Show the numbers" (screen readers read it
// always). The picture itself (uPlot) is fetched when first shown.
import { lazy, Suspense, useId, useState } from "react";

import { ErrorBoundary } from "../../../components/ErrorBoundary";
import { Loading } from "../../../components/Notice";
import { formatRate, type Range, type Stats } from "../api";
import { CHART_TITLES, type ChartKind, chartSummary, perDay, periodRows } from "./hourly";

const HourlyPlot = lazy(() => import("./HourlyPlot"));

const SIZES = { large: "h-56", small: "h-36" } as const;

const LEGENDS: Record<ChartKind, { label: string; swatch: string }[]> = {
  executions: [
    { label: "Completed", swatch: "bg-(--chart-completed)" },
    { label: "Failed", swatch: "bg-(--chart-failed)" },
    { label: "Cancelled", swatch: "bg-(--chart-cancelled)" },
  ],
  success: [{ label: "Success rate (completed of completed or failed)", swatch: "bg-(--chart-rate)" }],
};

export function HourlyChart({
  kind,
  stats,
  range,
  size = "large",
}: {
  kind: ChartKind;
  stats: Pick<Stats, "per_hour" | "since" | "until">;
  range: Range;
  size?: keyof typeof SIZES;
}) {
  const heightClass = SIZES[size];
  const label = chartSummary(kind, stats.per_hour, range.phrase);
  return (
    <div>
      <ErrorBoundary what="draw the chart">
        <Suspense
          fallback={
            <div className={`${heightClass} flex items-center justify-center`}>
              <Loading label="Loading the chart…" />
            </div>
          }
        >
          <HourlyPlot
            kind={kind}
            perHour={stats.per_hour}
            since={stats.since}
            until={stats.until}
            label={label}
            heightClass={heightClass}
          />
        </Suspense>
      </ErrorBoundary>
      <div className="mt-1 flex flex-wrap items-center justify-between gap-2">
        <ul aria-hidden="true" className="flex flex-wrap gap-x-4 gap-y-1 text-xs">
          {LEGENDS[kind].map((item) => (
            <li key={item.label} className="flex items-center gap-1.5">
              <span className={`inline-block size-3 rounded-sm ${item.swatch}`} />
              {item.label}
            </li>
          ))}
        </ul>
        <ChartTable kind={kind} stats={stats} range={range} />
      </div>
    </div>
  );
}

/** The chart's figures as a table: hours (days over a long range) in which runs finished. */
function ChartTable({
  kind,
  stats,
  range,
}: {
  kind: ChartKind;
  stats: Pick<Stats, "per_hour">;
  range: Range;
}) {
  const [shown, setShown] = useState(false);
  const id = useId();
  const byDay = perDay(range.hours);
  const rows = periodRows(stats.per_hour, byDay);
  const period = byDay ? "Day" : "Hour";
  const title = CHART_TITLES[kind];

  return (
    <>
      <button
        type="button"
        className="text-xs text-sky-700 underline-offset-2 hover:underline dark:text-sky-400"
        aria-expanded={shown}
        aria-controls={id}
        onClick={() => setShown(!shown)}
      >
        {shown ? "Hide the numbers" : "Show the numbers"}
        <span className="sr-only"> of {title.toLowerCase()}</span>
      </button>
      <div id={id} className={shown ? "w-full overflow-x-auto" : "sr-only"}>
        <table className="table">
          <caption className={shown ? "muted py-1 text-left text-xs" : undefined}>
            {title} over {range.phrase}, {byDay ? "by day" : "by hour"}
            {rows.length > 0 ? `, ${byDay ? "days" : "hours"} in which runs finished` : ": no run finished"}
          </caption>
          {rows.length > 0 ? (
            <>
              <thead>
                <tr>
                  <th scope="col">{period}</th>
                  <th scope="col">Completed</th>
                  <th scope="col">Failed</th>
                  {kind === "executions" ? <th scope="col">Cancelled</th> : null}
                  <th scope="col">{kind === "executions" ? "Finished" : "Success rate"}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.start}>
                    <th scope="row">{row.label}</th>
                    <td>{row.completed}</td>
                    <td>{row.failed}</td>
                    {kind === "executions" ? <td>{row.cancelled}</td> : null}
                    <td>{kind === "executions" ? row.total : formatRate(row.successRate)}</td>
                  </tr>
                ))}
              </tbody>
            </>
          ) : null}
        </table>
      </div>
    </>
  );
}
