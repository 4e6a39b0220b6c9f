import { createParser } from "eventsource-parser";
import { type ApiError, apiError } from "./errors.js";
import type { TaskClient } from "./client.js";
import type { TaskSync } from "./sync.js";

export interface LiveOptions {
  /** A `changed` event: `head` is the change feed's newest cursor. Pull the feed when it is not yours. */
  onChanged(head: string): unknown;
  /** The stream is open (again). */
  onOpen?(): void;
  /** A failed attempt or handler; the stream retries unless the error is fatal (401, 403). */
  onError?(error: unknown): void;
  /** Resume after the event with this id (the server then skips the first event if nothing changed). */
  lastEventId?: string | null;
  signal?: AbortSignal;
}

export interface LiveStream {
  close(): void;
  /** Settles when the stream stops for good: resolves after close(), rejects on a 401 or 403. */
  closed: Promise<void>;
  /** The id of the last event seen, for a later resume. */
  readonly lastEventId: string | null;
}

const DEFAULT_RETRY_MS = 3000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function fatal(error: unknown): error is ApiError {
  const status = (error as Partial<ApiError> | null)?.status;
  return status === 401 || status === 403;
}

/**
 * The user's event stream (`GET /api/{user_id}/events`) over fetch, since the browser's EventSource cannot
 * send the Authorization header. Each attempt asks the token provider again; a stream the server ends (it
 * does after SSE_MAX_SECONDS) or a dropped connection is reopened after the server's `retry:` delay with
 * Last-Event-ID; a 429 or 503 waits for its Retry-After.
 */
export function liveEvents(client: TaskClient, options: LiveOptions): LiveStream {
  const controller = new AbortController();
  options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
  const signal = controller.signal;
  let lastEventId = options.lastEventId ?? null;
  let retryMs = DEFAULT_RETRY_MS;

  const handle = (head: string) => {
    try {
      Promise.resolve(options.onChanged(head)).catch((error: unknown) => options.onError?.(error));
    } catch (error) {
      options.onError?.(error);
    }
  };

  async function attempt(): Promise<void> {
    const { userId, headers } = await client.authorize();
    const response = await client.fetch(`${client.baseUrl}/api/${encodeURIComponent(userId)}/events`, {
      headers: { ...headers, Accept: "text/event-stream", ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) },
      cache: "no-store",
      signal,
    });
    if (!response.ok || response.body === null) {
      const body: unknown = await response.json().catch(() => null);
      const error = apiError(response, body);
      if (error.retryAfter !== null) retryMs = Math.max(retryMs, error.retryAfter * 1000);
      throw error;
    }
    retryMs = DEFAULT_RETRY_MS;
    options.onOpen?.();
    const parser = createParser({
      onEvent(event) {
        if (event.id !== undefined) lastEventId = event.id;
        if (event.event !== "changed") return;
        let head = event.id ?? "";
        try {
          head = (JSON.parse(event.data) as { cursor?: string }).cursor ?? head;
        } catch {
          // the id carries the head too
        }
        handle(head);
      },
      onRetry(ms) {
        retryMs = ms;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  }

  const closed = (async () => {
    while (!signal.aborted) {
      try {
        await attempt();
      } catch (error) {
        if (signal.aborted) return;
        options.onError?.(error);
        if (fatal(error)) throw error;
      }
      await sleep(retryMs, signal);
    }
  })();
  closed.catch(() => {}); // a caller that never awaits `closed` must not see an unhandled rejection

  return {
    close: () => controller.abort(),
    closed,
    get lastEventId() {
      return lastEventId;
    },
  };
}

/** Live updates for a synced copy: pulls the change feed after every `changed` whose head is not the stored cursor. */
export function liveSync(client: TaskClient, sync: TaskSync, options: Omit<LiveOptions, "onChanged"> = {}): LiveStream {
  return liveEvents(client, { ...options, onChanged: (head) => sync.pullIfBehind(head) });
}
