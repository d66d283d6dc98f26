// The app's routes. Every path is a client-side route; the server answers index.html for them.
// Declarative routing (no data router): the app loads its data with TanStack Query, and this
// mode is about half of the router's weight in the bundle.
import { lazy, Suspense, useEffect } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from "react-router";

import { setUnauthorizedHandler } from "../api/client";
import { ApprovalsPage } from "../features/approvals/ApprovalsPage";
import { SignInPage } from "../features/auth/SignInPage";
import { DashboardPage } from "../features/dashboard/DashboardPage";
import { ExecutionDetailPage } from "../features/executions/ExecutionDetailPage";
import { ExecutionsPage } from "../features/executions/ExecutionsPage";
import { ApiKeysSettings } from "../features/settings/ApiKeysSettings";
import { ConnectorsSettings } from "../features/settings/ConnectorsSettings";
import { DataSourcesSettings } from "../features/settings/DataSourcesSettings";
import { EmailTemplatesSettings } from "../features/settings/EmailTemplatesSettings";
import { SecretsSettings } from "../features/settings/SecretsSettings";
import { SettingsPage } from "../features/settings/SettingsPage";
import { TeamsSettings } from "../features/settings/TeamsSettings";
import { UsersSettings } from "../features/settings/UsersSettings";
import { WorkflowDetailPage } from "../features/workflows/WorkflowDetailPage";
import { WorkflowsPage } from "../features/workflows/WorkflowsPage";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { Loading } from "../components/Notice";
import { Layout } from "./Layout";
import { NotFoundPage } from "./NotFoundPage";

// The builder (React Flow, elkjs and its panels) is fetched when first opened.
const BuilderPage = lazy(() => import("../features/builder/BuilderPage"));

function Builder() {
  return (
    <ErrorBoundary what="show the builder">
      <Suspense fallback={<Loading label="Loading the builder…" />}>
        <BuilderPage />
      </Suspense>
    </ErrorBoundary>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <SignInOnUnauthorized />
      <Routes>
        <Route path="/sign-in" element={<SignInPage />} />
        <Route element={<Layout />}>
          <Route index element={<DashboardPage />} />
          <Route path="workflows" element={<WorkflowsPage />} />
          <Route path="workflows/new" element={<Builder />} />
          <Route path="workflows/:id" element={<WorkflowDetailPage />} />
          <Route path="workflows/:id/edit" element={<Builder />} />
          <Route path="executions" element={<ExecutionsPage />} />
          <Route path="executions/:id" element={<ExecutionDetailPage />} />
          <Route path="approvals" element={<ApprovalsPage />} />
          <Route path="settings" element={<SettingsPage />}>
            <Route index element={<Navigate to="api-keys" replace />} />
            <Route path="api-keys" element={<ApiKeysSettings />} />
            <Route path="users" element={<UsersSettings />} />
            <Route path="teams" element={<TeamsSettings />} />
            <Route path="secrets" element={<SecretsSettings />} />
            <Route path="connectors" element={<ConnectorsSettings />} />
            <Route path="data-sources" element={<DataSourcesSettings />} />
            <Route path="email-templates" element={<EmailTemplatesSettings />} />
          </Route>
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}

/** No session, or one that expired: sign in, then come back to the page the user was on. */
function SignInOnUnauthorized() {
  const navigate = useNavigate();
  const { pathname, search } = useLocation();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (pathname === "/sign-in") return;
      void navigate(`/sign-in?next=${encodeURIComponent(pathname + search)}`, { replace: true });
    });
  }, [navigate, pathname, search]);
  return null;
}
