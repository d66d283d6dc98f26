// Export a definition as a file, JSON or YAML, named after the workflow and its version.
import type { WorkflowDefinition } from "../../api/types";
import { downloadText } from "../../components/download";
import { toYaml } from "./yaml";

export function exportDefinition(definition: WorkflowDefinition, id: string, version: number, format: "json" | "yaml") {
  const base = `${id}.v${version}`;
  if (format === "json") {
    downloadText(`${base}.json`, `${JSON.stringify(definition, null, 2)}\n`, "application/json");
  } else {
    downloadText(`${base}.yaml`, toYaml(definition), "application/yaml");
  }
}

export function ExportButtons({
  definition,
  id,
  version,
}: {
  definition: WorkflowDefinition;
  id: string;
  version: number;
}) {
  return (
    <div role="group" aria-label={`Export version ${version}`} className="flex gap-2">
      <button type="button" className="btn" onClick={() => exportDefinition(definition, id, version, "json")}>
        Export JSON
      </button>
      <button type="button" className="btn" onClick={() => exportDefinition(definition, id, version, "yaml")}>
        Export YAML
      </button>
    </div>
  );
}
