// The workflows whose runs failed in the range, those that failed most first (the statistics
// list them so), each linked to its page.
import { Link } from "react-router";

import { Empty } from "../../components/Notice";
import { formatDuration } from "../../components/Time";
import { formatCount, formatRate, type Range, roundMs, type WorkflowStatsRow } from "./api";

export function FailingWorkflows({ workflows, range }: { workflows: WorkflowStatsRow[]; range: Range }) {
  const failing = workflows.filter((w) => w.finished.failed > 0);
  return (
    <section aria-labelledby="failing-workflows" className="mb-8">
      <h2 id="failing-workflows" className="mb-3 text-lg font-semibold">
        Workflows that fail most
      </h2>
      <div className="card overflow-x-auto">
        {failing.length === 0 ? (
          <Empty>No workflow failed in {range.phrase}.</Empty>
        ) : (
          <table className="table">
            <caption className="sr-only">Workflows that fail most, in {range.phrase}</caption>
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col" className="text-right">
                  Failed
                </th>
                <th scope="col" className="text-right">
                  Finished
                </th>
                <th scope="col" className="text-right">
                  Success rate
                </th>
                <th scope="col" className="text-right">
                  Duration p50 / p95
                </th>
              </tr>
            </thead>
            <tbody>
              {failing.map((w) => (
                <tr key={w.workflow_id}>
                  <td>
                    {w.name === null ? (
                      <>
                        <span className="mono">{w.workflow_id}</span> <span className="muted text-xs">(deleted)</span>
                      </>
                    ) : (
                      <>
                        <Link to={`/workflows/${encodeURIComponent(w.workflow_id)}`} className="font-medium">
                          {w.name}
                        </Link>
                        <div className="mono muted">{w.workflow_id}</div>
                      </>
                    )}
                  </td>
                  <td className="text-right font-semibold text-red-700 tabular-nums dark:text-red-400">
                    {formatCount(w.finished.failed)}
                  </td>
                  <td className="text-right tabular-nums">{formatCount(w.finished.total)}</td>
                  <td className="text-right tabular-nums">{formatRate(w.success_rate)}</td>
                  <td className="text-right whitespace-nowrap tabular-nums">
                    {w.duration_ms
                      ? `${formatDuration(roundMs(w.duration_ms.p50))} / ${formatDuration(roundMs(w.duration_ms.p95))}`
                      : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
