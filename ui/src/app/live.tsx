// The live stream: one EventSource on GET /api/v1/stream per signed-in session. Its events
// invalidate the queries they touch; queries keep only a slow poll in case the stream is down.
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState } from "react";

import type { components } from "../api/schema";

type StreamEvent = components["schemas"]["StreamEvent"];
type StreamKind = components["schemas"]["StreamKind"];

/** How often queries refetch on their own: only a fallback, the stream tells of changes. */
export const FALLBACK_POLL_MS = 30_000;

const KINDS: readonly StreamKind[] = [
  "execution.started",
  "execution.step",
  "execution.finished",
  "approval.created",
  "approval.decided",
];
/** Events are gathered this long, then their queries invalidated once (a burst of steps is one refetch). */
const FLUSH_MS = 150;
/** After the server closed the stream for good (an error status), open a new one this much later. */
const REOPEN_MS = 5_000;
/**
 * Statistics (the dashboard's, a workflow's, the workflow list's activity) are refetched at
 * most this often: under load runs finish many times a second, and each refetch reads a range.
 */
const STATS_EVERY_MS = 5_000;

export type LiveStatus = "connecting" | "live" | "reconnecting";

const LiveContext = createContext<LiveStatus>("connecting");

export function useLiveStatus(): LiveStatus {
  return useContext(LiveContext);
}

let closeActive: (() => void) | undefined;

/** Signing out: close the stream now, before the session ends. */
export function closeLiveStream() {
  closeActive?.();
}

/** Opens the stream while `session` is set (one per signed-in session), closes it otherwise. */
export function LiveProvider({ session, children }: { session: string | undefined; children: React.ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    if (!session) return;
    const stream = new LiveStream(queryClient, setStatus);
    closeActive = () => stream.close();
    return () => {
      stream.close();
      if (closeActive) closeActive = undefined;
    };
  }, [session, queryClient]);

  return <LiveContext value={status}>{children}</LiveContext>;
}

class LiveStream {
  private source?: EventSource;
  private reopenTimer?: ReturnType<typeof setTimeout>;
  private flushTimer?: ReturnType<typeof setTimeout>;
  private pending = new Set<string>();
  private statsTimer?: ReturnType<typeof setTimeout>;
  private statsPending = new Set<string>();
  private statsAt = 0;
  private opened = false;
  private closed = false;

  constructor(
    private readonly queryClient: QueryClient,
    private readonly setStatus: (status: LiveStatus) => void,
  ) {
    this.open();
  }

  private open() {
    const source = new EventSource("/api/v1/stream");
    this.source = source;
    source.onopen = () => {
      this.setStatus("live");
      // Back after a gap: what changed meanwhile may be more than Last-Event-ID catches up on.
      if (this.opened) this.invalidate(["executions", "execution", "approvals", "stats", "workflows", "workflow"]);
      this.opened = true;
    };
    source.onerror = () => {
      if (this.closed) return;
      this.setStatus("reconnecting");
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (an error status); try later.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.reopenTimer = setTimeout(() => this.open(), REOPEN_MS);
      }
    };
    const onEvent = (e: MessageEvent<string>) => this.onEvent(e);
    for (const kind of KINDS) source.addEventListener(kind, onEvent);
  }

  private onEvent(e: MessageEvent<string>) {
    let event: StreamEvent;
    try {
      event = JSON.parse(e.data) as StreamEvent;
    } catch {
      return;
    }
    if (event.kind.startsWith("execution.")) {
      this.pending.add(JSON.stringify(["executions"]));
    } else {
      this.pending.add(JSON.stringify(["approvals"]));
    }
    // The open execution's detail and trace (keys ["execution", id, …]) when it is this one.
    this.pending.add(JSON.stringify(["execution", event.execution_id]));
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
    if (event.kind !== "execution.step") this.statsChanged(event);
  }

  /**
   * A run started or finished, or an approval came or went: the counts change. Throttled: the
   * first change in a while refetches at once, later ones together once STATS_EVERY_MS passed.
   */
  private statsChanged(event: StreamEvent) {
    this.statsPending.add(JSON.stringify(["stats"]));
    if (event.workflow_id) this.statsPending.add(JSON.stringify(["workflow", event.workflow_id, "stats"]));
    // The workflow list shows each workflow's last run and its last 7 days.
    if (event.kind === "execution.started" || event.kind === "execution.finished") {
      this.statsPending.add(JSON.stringify(["workflows"]));
    }
    if (this.statsTimer) return;
    const wait = Math.max(FLUSH_MS, this.statsAt + STATS_EVERY_MS - Date.now());
    this.statsTimer = setTimeout(() => this.flushStats(), wait);
  }

  private flushStats() {
    this.statsTimer = undefined;
    this.statsAt = Date.now();
    const keys = [...this.statsPending].map((key) => JSON.parse(key) as string[]);
    this.statsPending.clear();
    for (const queryKey of keys) void this.queryClient.invalidateQueries({ queryKey });
  }

  private flush() {
    this.flushTimer = undefined;
    const keys = [...this.pending].map((key) => JSON.parse(key) as string[]);
    this.pending.clear();
    for (const queryKey of keys) void this.queryClient.invalidateQueries({ queryKey });
  }

  private invalidate(roots: string[]) {
    for (const root of roots) void this.queryClient.invalidateQueries({ queryKey: [root] });
  }

  close() {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.flushTimer);
    clearTimeout(this.statsTimer);
    this.source?.close();
  }
}

/** The stream's state where a page shows its data is current. */
export function LiveIndicator() {
  const status = useLiveStatus();
  const live = status === "live";
  return (
    <span role="status" aria-label="Live updates" className="muted flex items-center gap-1.5 text-xs">
      <span
        aria-hidden="true"
        className={`inline-block size-2 rounded-full ${live ? "bg-emerald-500" : "bg-amber-500"}`}
      />
      {live ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…"}
    </span>
  );
}
