// Data sources: context a workflow loads before its first step (`"context": {"load": [NAME]}`),
// from a connector action, an HTTP request or Weir's records, cached per entity. Changing them
// needs admin.
import { useCan } from "../../app/auth";
import { useDataSources, useDeleteDataSource, useSaveDataSource } from "./api";
import { type DefinitionItem, DefinitionsSection } from "./DefinitionsSection";

const EXAMPLE = {
  entity_id: "{{customer.id}}",
  action: "customer_history",
  config: { customer_id: "{{entity_id}}" },
  ttl: "5m",
  timeout: "2s",
};

function source(item: DefinitionItem): React.ReactNode {
  const { action, record, entity_id: entityId } = item.definition;
  const from =
    typeof action === "string" ? `action ${action}` : record ? `record ${record === true ? "" : String(record)}`.trim() : "—";
  return (
    <span className="mono">
      {from}
      {typeof entityId === "string" ? <span className="muted"> for {entityId}</span> : null}
    </span>
  );
}

export function DataSourcesSettings() {
  const dataSources = useDataSources();
  const save = useSaveDataSource();
  const remove = useDeleteDataSource();
  const canAdmin = useCan("admin");

  return (
    <DefinitionsSection
      title="Data sources"
      noun="data source"
      description={
        <>
          Context loaded before a workflow&apos;s first step when it names the source in{" "}
          <span className="mono">{'"context": {"load": [...]}'}</span>, cached per entity.
        </>
      }
      query={dataSources}
      items={(d) => d.data_sources}
      summaryHeading="Loads"
      summary={source}
      nameInDefinition={false}
      nameHint="Dot-separated words: the entity type, then the key its data goes under (customer.history)."
      example={EXAMPLE}
      definitionHint={
        <>
          <span className="mono">entity_id</span> (a template over the payload), then{" "}
          <span className="mono">action</span> + <span className="mono">config</span> or{" "}
          <span className="mono">record: true</span>; optional <span className="mono">select</span>,{" "}
          <span className="mono">ttl</span>, <span className="mono">timeout</span>, <span className="mono">on_error</span>.
        </>
      }
      save={save}
      remove={remove}
      deleteWarning={<p>Workflows that load it get nothing under its name from now on, and what it cached is dropped.</p>}
      canWrite={canAdmin}
    />
  );
}
