// Read-only lists of what a tenant × environment is made of. Each list is asked for on its own,
// so a role that may not see one (403) still sees the others.
import { useQuery } from "@tanstack/react-query";

import { api, errorMessage, isApiError, unwrap } from "../../api/client";
import { useMe } from "../../app/auth";
import { Badge } from "../../components/Badge";
import { Empty, ErrorNotice, Loading } from "../../components/Notice";
import { PageHeader } from "../../components/Page";
import { DateTime } from "../../components/Time";

export function SettingsPage() {
  const apiKeys = useQuery({
    queryKey: ["api-keys"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/api-keys", { signal })),
  });
  const users = useQuery({
    queryKey: ["users"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/users", { signal })),
  });
  const teams = useQuery({
    queryKey: ["teams"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/teams", { signal })),
  });
  const secrets = useQuery({
    queryKey: ["secrets"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/secrets", { signal })),
  });

  return (
    <>
      <PageHeader title="Settings" />
      <div className="space-y-8">
        <Section id="api-keys" title="API keys" noun="API keys" query={apiKeys} isEmpty={(d) => d.api_keys.length === 0}>
          {(data) => (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Id</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Role</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {data.api_keys.map((key) => (
                  <tr key={key.id}>
                    <td className="font-medium">{key.name}</td>
                    <td className="mono">{key.id}</td>
                    <td>
                      {key.tenant_id} × {key.environment}
                    </td>
                    <td>
                      {key.role}
                      {key.platform_admin ? (
                        <>
                          {" "}
                          <Badge tone="blue">platform admin</Badge>
                        </>
                      ) : null}
                    </td>
                    <td>
                      <DateTime value={key.created_at} />
                    </td>
                    <td>{key.expires_at ? <DateTime value={key.expires_at} /> : <span className="muted">never</span>}</td>
                    <td>{key.revoked_at ? <Badge tone="red">revoked</Badge> : <Badge tone="green">active</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>

        <Section id="users" title="Users" query={users} isEmpty={(d) => d.users.length === 0}>
          {(data) => (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Environment</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {data.users.map((user) => (
                  <tr key={user.id}>
                    <td className="font-medium">{user.email}</td>
                    <td>{user.name}</td>
                    <td>{user.role}</td>
                    <td>{user.environment ?? <span className="muted">every environment</span>}</td>
                    <td>{user.disabled_at ? <Badge tone="gray">disabled</Badge> : <Badge tone="green">active</Badge>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>

        <Section id="teams" title="Teams" query={teams} isEmpty={(d) => d.teams.length === 0}>
          {(data) => (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Team</th>
                  <th scope="col">Description</th>
                  <th scope="col">Members</th>
                </tr>
              </thead>
              <tbody>
                {data.teams.map((team) => (
                  <tr key={team.name}>
                    <td className="mono font-medium">{team.name}</td>
                    <td>{team.description ?? <span className="muted">—</span>}</td>
                    <td>
                      {team.members.length === 0 ? (
                        <span className="muted">nobody</span>
                      ) : (
                        team.members.map((m) => (
                          <span key={m.id} className={`mr-2 inline-block ${m.disabled ? "muted line-through" : ""}`}>
                            {m.email}
                            {m.disabled ? <span className="sr-only"> (disabled)</span> : null}
                          </span>
                        ))
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>

        <Section id="secrets" title="Secrets" query={secrets} isEmpty={(d) => d.secrets.length === 0}>
          {(data) => (
            <table className="table">
              <caption className="muted px-3 pt-2 text-left text-xs">Names only: a secret's value is never shown.</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Allowed hosts</th>
                  <th scope="col">Allowed actions</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {data.secrets.map((secret) => (
                  <tr key={secret.name}>
                    <td className="mono font-medium">{secret.name}</td>
                    <td className="mono">{secret.allowed_hosts?.join(", ") ?? <span className="muted">any</span>}</td>
                    <td className="mono">
                      {secret.allowed_actions?.join(", ") ?? <span className="muted">any but code</span>}
                    </td>
                    <td>
                      <DateTime value={secret.updated_at} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>
    </>
  );
}

function Section<T>({
  id,
  title,
  noun = title.toLowerCase(),
  query,
  isEmpty,
  children,
}: {
  id: string;
  title: string;
  /** The title within a sentence. */
  noun?: string;
  query: { isPending: boolean; isError: boolean; error: unknown; data: T | undefined };
  isEmpty: (data: T) => boolean;
  children: (data: T) => React.ReactNode;
}) {
  const me = useMe();
  const headingId = `${id}-heading`;
  let body: React.ReactNode;
  if (query.isPending) body = <Loading />;
  else if (query.isError && isApiError(query.error, 403))
    body = (
      <p className="px-3 py-4 text-sm" role="note">
        <strong>Your role{me.data ? ` (${me.data.role})` : ""} may not see {noun}.</strong>{" "}
        <span className="muted">{errorMessage(query.error)}</span>
      </p>
    );
  else if (query.isError)
    body = (
      <div className="p-3">
        <ErrorNotice error={query.error} what={`list ${noun}`} />
      </div>
    );
  else if (query.data === undefined || isEmpty(query.data)) body = <Empty>None yet.</Empty>;
  else body = children(query.data);

  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId} className="mb-3 text-lg font-semibold">
        {title}
      </h2>
      <div className="card overflow-x-auto">{body}</div>
    </section>
  );
}
