// Settings: what a tenant × environment is made of, one section per route (a link can point at
// one): keys, users, teams, secrets, connectors, data sources, email templates. What the
// caller's role may not change is shown without its buttons, with the reason.
import { NavLink, Outlet, useLocation } from "react-router";

import { PageHeader } from "../../components/Page";

export const SETTINGS_SECTIONS = [
  { path: "api-keys", label: "API keys" },
  { path: "users", label: "Users" },
  { path: "teams", label: "Teams" },
  { path: "secrets", label: "Secrets" },
  { path: "connectors", label: "Connectors" },
  { path: "data-sources", label: "Data sources" },
  { path: "email-templates", label: "Email templates" },
] as const;

function tabClass({ isActive }: { isActive: boolean }) {
  const base = "block rounded-md px-3 py-1.5 text-sm font-medium whitespace-nowrap no-underline hover:no-underline";
  return isActive
    ? `${base} bg-sky-100 text-sky-900 dark:bg-sky-900/40 dark:text-sky-100`
    : `${base} text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800`;
}

export function SettingsPage() {
  const { pathname } = useLocation();
  const current = SETTINGS_SECTIONS.find((s) => pathname.startsWith(`/settings/${s.path}`));
  return (
    <>
      <PageHeader title="Settings" documentTitle={current ? `${current.label} · Settings` : "Settings"} />
      <nav aria-label="Settings sections" className="mb-6 border-b border-zinc-200 pb-2 dark:border-zinc-800">
        <ul className="flex gap-1 overflow-x-auto">
          {SETTINGS_SECTIONS.map((section) => (
            <li key={section.path}>
              <NavLink to={`/settings/${section.path}`} className={tabClass}>
                {section.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Outlet />
    </>
  );
}
