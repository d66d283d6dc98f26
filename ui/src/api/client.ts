// The one way the app talks to the server: openapi-fetch over the generated types, with the
// session cookie, the CSRF header on writes, and one place that turns a 401 into a sign-in.
import createClient, { type Middleware } from "openapi-fetch";

import type { paths } from "./schema";
import type { Detail, ErrorBody } from "./types";

/**
 * An answer that was not a success, with the server's message when it sent one, and its
 * details: one per field at fault or per diagnostic of a refused definition.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly details: Detail[];

  constructor(status: number, message: string, code?: string, details: Detail[] = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function isApiError(e: unknown, status?: number): e is ApiError {
  return e instanceof ApiError && (status === undefined || e.status === status);
}

/** What to tell a person about a failed request. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof TypeError) return "Could not reach the server.";
  if (e instanceof Error) return e.message;
  return "Something went wrong.";
}

let onUnauthorized: (() => void) | undefined;

/** Set by the router: where a 401 (no session, or an expired one) sends the user. */
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const session: Middleware = {
  onRequest({ request }) {
    // The server requires this header on cookie-authenticated writes: a cross-site form cannot
    // send it, so it stops CSRF.
    if (!SAFE_METHODS.has(request.method)) request.headers.set("X-Weir-CSRF", "1");
    return request;
  },
  onResponse({ response, schemaPath }) {
    // A wrong password is a 401 too; that one is the sign-in form's to show.
    if (response.status === 401 && schemaPath !== "/api/v1/auth/login") onUnauthorized?.();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "/", credentials: "same-origin" });
api.use(session);

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === "object" &&
    body !== null &&
    "error" in body &&
    typeof (body as ErrorBody).error?.message === "string"
  );
}

/** The data of a success, or an `ApiError` thrown with the server's message. */
export async function unwrap<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await request;
  if (response.ok) return data as T;
  if (isErrorBody(error)) {
    const { message, code, details } = error.error;
    throw new ApiError(response.status, message, code, Array.isArray(details) ? details : []);
  }
  throw new ApiError(response.status, `The server answered ${response.status} ${response.statusText}`.trim());
}

/**
 * A document sent as written (JSON or YAML text) instead of a serialized object, so the server's
 * diagnostics point at the lines the user wrote.
 */
export function documentBody(text: string, format: "json" | "yaml") {
  return {
    // The typed body is the parsed document; the serializer sends the text instead.
    body: {},
    bodySerializer: () => text,
    headers: { "Content-Type": format === "yaml" ? "application/yaml" : "application/json" },
  };
}
