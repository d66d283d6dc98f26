// The signed-in frame: navigation on the left; in the header where the caller acts (tenant and
// environment, switched there), who it is, the theme and sign-out.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";

import { errorMessage } from "../api/client";
import { ErrorNotice, Loading } from "../components/Notice";
import { callerName, signOut, useMe } from "./auth";
import { LiveProvider } from "./live";
import { TenantSwitcher } from "./TenantSwitcher";
import { type Theme, useTheme } from "./theme";

const NAV = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/workflows", label: "Workflows", end: false },
  { to: "/executions", label: "Executions", end: false },
  { to: "/approvals", label: "Approvals", end: false },
  { to: "/settings", label: "Settings", end: false },
] as const;

function navClass({ isActive }: { isActive: boolean }) {
  const base = "block rounded-md px-3 py-2 text-sm font-medium no-underline hover:no-underline";
  return isActive
    ? `${base} bg-sky-100 text-sky-900 dark:bg-sky-900/40 dark:text-sky-100`
    : `${base} text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800`;
}

export function Layout() {
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [theme, setTheme] = useTheme();
  const [signOutError, setSignOutError] = useState<string>();
  const [switchError, setSwitchError] = useState<unknown>();

  async function onSignOut() {
    setSignOutError(undefined);
    try {
      await signOut();
      navigate("/sign-in", { replace: true });
    } catch (e) {
      setSignOutError(errorMessage(e));
      queryClient.clear();
    }
  }

  return (
    // One stream per session: switching environment starts a new session, whose stream carries
    // the new environment's events.
    <LiveProvider session={me.data?.session_id ?? me.data?.id}>
      <div className="min-h-screen md:flex">
        <a
          href="#main"
          className="sr-only rounded bg-white px-3 py-2 focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 dark:bg-zinc-900"
        >
          Skip to content
        </a>
        <nav
          aria-label="Main"
          className="border-b border-zinc-200 bg-white px-3 py-3 md:w-52 md:shrink-0 md:border-r md:border-b-0 dark:border-zinc-800 dark:bg-zinc-900"
        >
          <div className="mb-4 px-3 text-lg font-bold tracking-tight text-sky-800 dark:text-sky-300">Weir</div>
          <ul className="flex gap-1 overflow-x-auto md:flex-col">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end} className={navClass}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="flex min-w-0 flex-1 flex-col">
          <header className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-zinc-200 bg-white px-4 py-2 text-sm dark:border-zinc-800 dark:bg-zinc-900">
            {me.data ? <TenantSwitcher me={me.data} onError={setSwitchError} /> : null}
            <span className="flex-1" />
            {me.data ? (
              <>
                <span className="font-medium">
                  <span className="sr-only">Signed in as </span>
                  {callerName(me.data)}
                </span>
                <span className="muted">
                  <span className="sr-only">Role: </span>
                  {me.data.role}
                </span>
              </>
            ) : null}
            <label className="flex items-center gap-1.5">
              <span className="muted">Theme</span>
              <select
                className="input w-auto py-1"
                value={theme}
                onChange={(e) => setTheme(e.target.value as Theme)}
              >
                <option value="system">System</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
            <button type="button" className="btn" onClick={onSignOut}>
              Sign out
            </button>
          </header>
          <main id="main" tabIndex={-1} className="flex-1 p-4 md:p-6">
            {signOutError ? <ErrorNotice error={new Error(signOutError)} what="sign out" /> : null}
            {switchError ? (
              <div className="mb-4">
                <ErrorNotice error={switchError} what="switch to that environment" />
              </div>
            ) : null}
            {me.isPending ? (
              <Loading />
            ) : me.isError ? (
              <ErrorNotice error={me.error} what="load your session" />
            ) : (
              <Outlet />
            )}
          </main>
        </div>
      </div>
    </LiveProvider>
  );
}
