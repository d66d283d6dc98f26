// Sign in with a user's email and password; the server sets the HttpOnly session cookie.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";

import { api, errorMessage, unwrap } from "../../api/client";
import { safeNext } from "../../app/auth";

export function SignInPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const next = safeNext(params.get("next"));
  // "Sign in to another tenant…" (the header) comes with ?tenant=&email=…: the tenant's field open.
  const anotherTenant = params.has("tenant");
  const [email, setEmail] = useState(() => params.get("email") ?? "");
  const [password, setPassword] = useState("");
  const [tenant, setTenant] = useState(() => params.get("tenant") ?? "");
  const [environment, setEnvironment] = useState("");

  const signIn = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/auth/login", {
          body: {
            email: email.trim(),
            password,
            tenant_id: tenant.trim() || null,
            environment: environment.trim() || null,
          },
        }),
      ),
    onSuccess: async () => {
      // Nothing cached under another session may show under this one.
      queryClient.clear();
      await navigate(next, { replace: true });
    },
  });

  return (
    <main className="flex min-h-screen items-center justify-center p-4">
      <title>Sign in · Weir</title>
      <div className="card w-full max-w-sm p-6">
        <h1 className="mb-1 text-xl font-semibold">Sign in to Weir</h1>
        {anotherTenant ? (
          <p className="muted mb-4 text-sm">
            Each tenant has its own users: sign in as your user of the other tenant, with that user&apos;s password.{" "}
            <Link to="/" className="underline">
              Back to the console
            </Link>
          </p>
        ) : params.get("next") ? (
          <p className="muted mb-4 text-sm">Your session ended, or you are not signed in yet.</p>
        ) : (
          <p className="muted mb-4 text-sm">Use the email and password your administrator gave you.</p>
        )}
        <form
          className="space-y-3"
          onSubmit={(e) => {
            e.preventDefault();
            signIn.mutate();
          }}
        >
          <div>
            <label htmlFor="email" className="label">
              Email
            </label>
            <input
              id="email"
              className="input"
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div>
            <label htmlFor="password" className="label">
              Password
            </label>
            <input
              id="password"
              className="input"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <details className="text-sm" open={anotherTenant || undefined}>
            <summary className="muted cursor-pointer select-none">Tenant and environment</summary>
            <div className="mt-2 grid grid-cols-2 gap-2">
              <div>
                <label htmlFor="tenant" className="label">
                  Tenant
                </label>
                <input
                  id="tenant"
                  className="input"
                  // Coming to sign in to another tenant, the tenant is what to type first.
                  autoFocus={anotherTenant}
                  required={anotherTenant}
                  placeholder="default"
                  autoComplete="organization"
                  value={tenant}
                  onChange={(e) => setTenant(e.target.value)}
                />
              </div>
              <div>
                <label htmlFor="environment" className="label">
                  Environment
                </label>
                <input
                  id="environment"
                  className="input"
                  placeholder="production"
                  value={environment}
                  onChange={(e) => setEnvironment(e.target.value)}
                />
              </div>
            </div>
          </details>
          {signIn.isError ? (
            <div
              role="alert"
              className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950/60 dark:text-red-200"
            >
              {errorMessage(signIn.error)}
            </div>
          ) : null}
          <button type="submit" className="btn btn-primary w-full" disabled={signIn.isPending}>
            Sign in
          </button>
        </form>
      </div>
    </main>
  );
}
