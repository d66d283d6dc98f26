// Connectors: a tenant's own action types over HTTP (a base URL, auth from a secret, and per
// action a config schema, a request template and an output mapping). Changing them needs admin.
import { useCan } from "../../app/auth";
import { useConnectors, useDeleteConnector, useSaveConnector } from "./api";
import { DefinitionsSection } from "./DefinitionsSection";

const EXAMPLE = {
  name: "billing",
  description: "What the service is and which secret holds its token.",
  base_url: "https://billing.example.com/api/v1",
  auth: { type: "bearer", secret: "BILLING_TOKEN" },
  timeout: "10s",
  actions: {
    create_invoice: {
      description: "Invoice the run's customer.",
      config_schema: {
        type: "object",
        additionalProperties: false,
        required: ["amount"],
        properties: { amount: { type: "number" } },
      },
      request: { method: "POST", path: "/invoices", body: { customer_id: "{{customer.id}}", amount: "{{input.amount}}" } },
      output: { invoice_id: "{{response.body.id}}" },
    },
  },
};

export function ConnectorsSettings() {
  const connectors = useConnectors();
  const save = useSaveConnector();
  const remove = useDeleteConnector();
  const canAdmin = useCan("admin");

  return (
    <DefinitionsSection
      title="Connectors"
      noun="connector"
      description="Action types of your own, over HTTP: each connector adds its actions to what workflow steps can do."
      query={connectors}
      items={(d) => d.connectors}
      summaryHeading="Actions"
      summary={(item) => {
        const connector = connectors.data?.connectors.find((c) => c.name === item.name);
        return connector && connector.actions.length > 0 ? (
          <span className="mono">{connector.actions.join(", ")}</span>
        ) : (
          <span className="muted">none</span>
        );
      }}
      nameInDefinition
      example={EXAMPLE}
      definitionHint={
        <>
          The connector&apos;s <span className="mono">name</span>, <span className="mono">base_url</span>,{" "}
          <span className="mono">auth</span> (api_key, bearer or basic from a secret, or oauth2) and{" "}
          <span className="mono">actions</span>. In a request, <span className="mono">{"{{input.X}}"}</span> is the
          step&apos;s config and <span className="mono">{"{{X}}"}</span> the run&apos;s context.
        </>
      }
      save={save}
      remove={remove}
      deleteWarning={<p>Its actions disappear from the catalog. Weir refuses while a workflow still uses one of them.</p>}
      canWrite={canAdmin}
    />
  );
}
