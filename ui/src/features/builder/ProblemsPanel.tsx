// Everything the validator says about the definition, by the node it points at, with each
// diagnostic's fix a click away and, when every error has a sure fix, all of them at once.
import type { UseQueryResult } from "@tanstack/react-query";

import type { Detail } from "../../api/types";
import { ErrorNotice, Loading } from "../../components/Notice";
import { TRIGGER_ID } from "../graph/model";
import type { Validation } from "./api";
import type { Definition } from "./definition";
import type { Problem } from "./Inspector";

export function ProblemsPanel({
  validation,
  problems,
  onFix,
  onFixAll,
  onShow,
}: {
  validation: UseQueryResult<Validation>;
  problems: Map<string | undefined, Problem[]>;
  onFix: (detail: Detail) => void;
  onFixAll: (fixed: Definition) => void;
  onShow: (node: string) => void;
}) {
  if (validation.isPending) return <Loading label="Validating…" />;
  if (validation.isError) return <ErrorNotice error={validation.error} what="validate the workflow" />;
  const { valid, diagnostics, fixed_workflow } = validation.data;
  return (
    <section aria-label="Problems" className="space-y-3 text-sm">
      <h2 className="text-base font-semibold">Problems</h2>
      <p role="status">
        {diagnostics.length === 0
          ? "The workflow is valid."
          : valid
            ? `Valid, with ${diagnostics.length} ${diagnostics.length === 1 ? "warning" : "warnings"}.`
            : `${diagnostics.filter((d) => d.severity !== "warning").length} errors to fix before deploying.`}
      </p>
      {fixed_workflow ? (
        <button type="button" className="btn btn-primary" onClick={() => onFixAll(fixed_workflow as Definition)}>
          Apply all sure fixes
        </button>
      ) : null}
      {[...problems].map(([node, list]) => (
        <div key={node ?? "$"}>
          <h3 className="font-semibold">
            {node === undefined ? (
              "The workflow"
            ) : (
              <button type="button" className="text-sky-700 underline dark:text-sky-300" onClick={() => onShow(node)}>
                {node === TRIGGER_ID ? "The trigger" : <span className="mono">{node}</span>}
              </button>
            )}
          </h3>
          <ul className="mt-1 space-y-1.5">
            {list.map(({ detail }, i) => (
              <li key={i}>
                {detail.severity === "warning" ? <strong>Warning: </strong> : null}
                <code className="mono rounded bg-black/5 px-1 dark:bg-white/10">{detail.path}</code> {detail.message}
                {detail.code ? <span className="muted block text-xs">{detail.code}</span> : null}
                {detail.fix ? (
                  <button type="button" className="btn mt-1" onClick={() => onFix(detail)}>
                    Apply fix: {detail.fix.description}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}
