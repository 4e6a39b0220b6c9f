import { ApiError } from "./errors.js";
import type { TaskClient } from "./client.js";
import type { ChangesQuery, Task, Tombstone } from "./types.js";

/** One page of changes to apply, in order. */
export interface SyncPage {
  /** A full sync starts: drop every task held before applying this page. */
  reset: boolean;
  /** Upsert these (they are the tasks as of this read). */
  changed: Task[];
  /** Remove these ids. */
  deleted: Tombstone[];
}

/** The caller's storage: IndexedDB, AsyncStorage, SQLite, memory. Each may be sync or async. */
export interface SyncStore {
  /** The cursor saved last, or null before the first sync. */
  loadCursor(): Promise<string | null> | string | null;
  /** Called after each page is applied, so an interrupted sync resumes where it stopped. */
  saveCursor(cursor: string): Promise<void> | void;
  apply(page: SyncPage): Promise<void> | void;
}

export interface PullResult {
  pages: number;
  changed: number;
  deleted: number;
  /** True when this pull replaced the local copy (first sync, or the stored cursor had expired). */
  fullSync: boolean;
}

export interface SyncOptions {
  /** Page size of the feed (1 to 1000); the server's default (500) when omitted. */
  limit?: number;
}

/** The stored cursor cannot be used any more: older than the kept history (410), or from another key (422). */
function cursorUnusable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 410 && error.code === "SYNC_CURSOR_EXPIRED") return true;
  const errors = error.details?.["errors"];
  return error.status === 422 && Array.isArray(errors) && errors.some((e: { field?: unknown }) => e.field === "cursor");
}

/**
 * Keeps a local copy in step with the server through the change feed. `pull()` walks the feed from the
 * stored cursor until `has_more` is false; concurrent calls share one walk, and a call that arrives during
 * a walk makes it walk once more, so a change announced mid-walk is never left behind.
 */
export class TaskSync {
  private running: Promise<PullResult> | null = null;
  private again = false;

  constructor(
    private readonly client: TaskClient,
    private readonly store: SyncStore,
    private readonly options: SyncOptions = {},
  ) {}

  pull(): Promise<PullResult> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.walkUntilQuiet().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Pull unless `head` (from a `changed` event) is the cursor already stored. */
  async pullIfBehind(head: string): Promise<PullResult | null> {
    if (this.running === null && head === (await this.store.loadCursor())) return null;
    return this.pull();
  }

  private async walkUntilQuiet(): Promise<PullResult> {
    const total: PullResult = { pages: 0, changed: 0, deleted: 0, fullSync: false };
    do {
      this.again = false;
      const walk = await this.walk();
      total.pages += walk.pages;
      total.changed += walk.changed;
      total.deleted += walk.deleted;
      total.fullSync ||= walk.fullSync;
    } while (this.again);
    return total;
  }

  private async walk(): Promise<PullResult> {
    let cursor = await this.store.loadCursor();
    const result: PullResult = { pages: 0, changed: 0, deleted: 0, fullSync: cursor === null };
    let reset = cursor === null;
    for (;;) {
      const query: ChangesQuery = { ...(cursor === null ? {} : { cursor }), ...this.pageSize() };
      let page;
      try {
        page = await this.client.changes(query);
      } catch (error) {
        if (cursor === null || result.pages > 0 || !cursorUnusable(error)) throw error;
        cursor = null; // drop the local copy and start over with a full sync
        reset = result.fullSync = true;
        continue;
      }
      await this.store.apply({ reset, changed: page.data.changed, deleted: page.data.deleted });
      reset = false;
      result.pages += 1;
      result.changed += page.data.changed.length;
      result.deleted += page.data.deleted.length;
      cursor = page.meta.next_cursor;
      await this.store.saveCursor(cursor);
      if (!page.meta.has_more) return result;
    }
  }

  private pageSize(): Partial<ChangesQuery> {
    if (this.options.limit === undefined) return {};
    // Sent as a query string either way; the cast keeps this compiling whether the document types the
    // parameter as an integer or (as the feed route did at first) as a string.
    return { limit: this.options.limit } as unknown as Partial<ChangesQuery>;
  }
}

/** A SyncStore over a Map, with the cursor kept by the given callbacks (localStorage, a file, memory). */
export function mapStore(
  tasks: Map<string, Task>,
  cursor: { load(): Promise<string | null> | string | null; save(cursor: string): Promise<void> | void },
): SyncStore {
  return {
    loadCursor: () => cursor.load(),
    saveCursor: (value) => cursor.save(value),
    apply({ reset, changed, deleted }) {
      if (reset) tasks.clear();
      for (const task of changed) tasks.set(task.id, task);
      for (const tombstone of deleted) tasks.delete(tombstone.id);
    },
  };
}
