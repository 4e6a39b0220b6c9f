import createClient from "openapi-fetch";
import { apiError } from "./errors.js";
import type { paths } from "./schema.js";
import { type TokenProvider, userIdOf } from "./token.js";
import type {
  BatchOperation,
  BatchResult,
  ChangesPage,
  ChangesQuery,
  IfMatch,
  ListMeta,
  ListQuery,
  Task,
  TaskCompletion,
  TaskCreate,
  TaskMove,
  TaskPatch,
  TaskReplace,
  TaskResult,
} from "./types.js";

export interface ClientOptions {
  /** The API's origin, e.g. `https://tasks.example.com` (no trailing `/api`). */
  baseUrl: string;
  /** Called before every request; the user id in the paths is the token's `sub`. */
  token: TokenProvider;
  /** Another fetch (tests, Next.js' extended fetch); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

export interface WriteOptions {
  /** Write only over this version: sends `If-Match`; a newer task on the server is a PreconditionFailedError. */
  ifMatch?: IfMatch;
}

export interface BatchOptions {
  /** The first failure undoes the whole batch: a 409 BATCH_ABORTED ApiError whose details name the operation. */
  atomic?: boolean;
  /** A repeat with the same key and body answers the first answer again and runs nothing. */
  idempotencyKey?: string;
}

export interface CreateOptions {
  /** A repeat with the same key and body returns the first task instead of creating another. */
  idempotencyKey?: string;
}

/** Who is asking: the user id for the paths and the header that proves it. */
export interface Authorization {
  userId: string;
  headers: { Authorization: string };
}

/** The ETag of a version: `"<version>"`. */
export function etagOf(version: IfMatch): string {
  if (typeof version === "string") return version;
  return `"${typeof version === "number" ? version : version.version}"`;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

function unwrap<T>({ data, error, response }: Answer<T>): T {
  if (!response.ok) throw apiError(response, error);
  return data as T;
}

function taskResult({ data, error, response }: Answer<{ data: Task }>): TaskResult {
  const task = unwrap({ data, error, response }).data;
  return { task, etag: response.headers.get("ETag") ?? etagOf(task), location: response.headers.get("Location") };
}

function ifMatchHeader(options: WriteOptions | undefined): Record<string, string> {
  return options?.ifMatch === undefined ? {} : { "If-Match": etagOf(options.ifMatch) };
}

/** The typed client: one method per route, errors thrown as ApiError (412 as PreconditionFailedError). */
export function createTaskClient(options: ClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  // openapi-fetch keeps the fetch it is given; resolve the global one per call so a test or polyfill can swap it.
  const fetchImpl: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const http = createClient<paths>({ baseUrl, fetch: (request: Request) => fetchImpl(request) });

  async function authorize(): Promise<Authorization> {
    const token = await options.token();
    return { userId: userIdOf(token), headers: { Authorization: `Bearer ${token}` } };
  }

  async function taskPath(id: string) {
    const { userId, headers } = await authorize();
    return { params: { path: { user_id: userId, task_id: id } }, headers };
  }

  async function list(query: ListQuery = {}): Promise<{ tasks: Task[]; meta: ListMeta }> {
    const { userId, headers } = await authorize();
    const body = unwrap(await http.GET("/api/{user_id}/tasks", { params: { path: { user_id: userId }, query }, headers }));
    return { tasks: body.data, meta: body.meta };
  }

  // Plain functions, not methods using `this`: `const { create } = api` works too.
  return {
    baseUrl,
    fetch: fetchImpl,
    /** The openapi-fetch client, for anything this layer does not wrap (pass `headers` from authorize()). */
    http,
    authorize,

    list,

    /** Every page of a listing, following `next_cursor`. */
    async listAll(query: Omit<ListQuery, "cursor"> = {}): Promise<Task[]> {
      const tasks: Task[] = [];
      let cursor: string | null = null;
      do {
        const page: { tasks: Task[]; meta: ListMeta } = await list(cursor === null ? query : { ...query, cursor });
        tasks.push(...page.tasks);
        cursor = page.meta.next_cursor;
      } while (cursor !== null);
      return tasks;
    },

    async create(task: TaskCreate, create: CreateOptions = {}): Promise<TaskResult> {
      const { userId, headers } = await authorize();
      const extra = create.idempotencyKey === undefined ? {} : { "Idempotency-Key": create.idempotencyKey };
      return taskResult(
        await http.POST("/api/{user_id}/tasks", {
          params: { path: { user_id: userId } },
          body: task,
          headers: { ...headers, ...extra },
        }),
      );
    },

    async get(id: string): Promise<TaskResult> {
      return taskResult(await http.GET("/api/{user_id}/tasks/{task_id}", await taskPath(id)));
    },

    /** The task as it is now, or null when it is still the version held (a 304, no body sent). */
    async getIfChanged(held: Task): Promise<TaskResult | null> {
      const request = await taskPath(held.id);
      const answer = await http.GET("/api/{user_id}/tasks/{task_id}", {
        ...request,
        headers: { ...request.headers, "If-None-Match": etagOf(held) },
      });
      return answer.response.status === 304 ? null : taskResult(answer);
    },

    async replace(id: string, task: TaskReplace, write?: WriteOptions): Promise<TaskResult> {
      const request = await taskPath(id);
      return taskResult(
        await http.PUT("/api/{user_id}/tasks/{task_id}", {
          ...request,
          body: task,
          headers: { ...request.headers, ...ifMatchHeader(write) },
        }),
      );
    },

    async update(id: string, patch: TaskPatch, write?: WriteOptions): Promise<TaskResult> {
      const request = await taskPath(id);
      return taskResult(
        await http.PATCH("/api/{user_id}/tasks/{task_id}", {
          ...request,
          body: patch,
          headers: { ...request.headers, ...ifMatchHeader(write) },
        }),
      );
    },

    /** Without `completion` it toggles; `{completed: true|false}` sets it. */
    async complete(id: string, completion?: TaskCompletion, write?: WriteOptions): Promise<TaskResult> {
      const request = await taskPath(id);
      return taskResult(
        await http.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
          ...request,
          // No body toggles. Not `null`: a JSON null is a 422, and openapi-fetch leaves out only `undefined`.
          body: completion as TaskCompletion,
          headers: { ...request.headers, ...ifMatchHeader(write) },
        }),
      );
    },

    /** Right after `after_id` (null: first) among the siblings under `parent_id` (omitted: the same parent). */
    async move(id: string, to: TaskMove, write?: WriteOptions): Promise<TaskResult> {
      const request = await taskPath(id);
      return taskResult(
        await http.POST("/api/{user_id}/tasks/{task_id}/move", {
          ...request,
          body: to,
          headers: { ...request.headers, ...ifMatchHeader(write) },
        }),
      );
    },

    /** 1 to 100 operations in order, in one transaction; one result per operation (its own status, task or error). */
    async batch(operations: BatchOperation[], batch: BatchOptions = {}): Promise<BatchResult[]> {
      const { userId, headers } = await authorize();
      const extra = batch.idempotencyKey === undefined ? {} : { "Idempotency-Key": batch.idempotencyKey };
      const body = unwrap(
        await http.POST("/api/{user_id}/tasks/batch", {
          params: { path: { user_id: userId } },
          body: { operations, ...(batch.atomic === undefined ? {} : { atomic: batch.atomic }) },
          headers: { ...headers, ...extra },
        }),
      );
      return body.data;
    },

    async delete(id: string, write?: WriteOptions): Promise<void> {
      const request = await taskPath(id);
      unwrap(
        await http.DELETE("/api/{user_id}/tasks/{task_id}", {
          ...request,
          headers: { ...request.headers, ...ifMatchHeader(write) },
        }),
      );
    },

    /** One page of the change feed; most callers want TaskSync instead. */
    async changes(query: ChangesQuery = {}): Promise<ChangesPage> {
      const { userId, headers } = await authorize();
      return unwrap(
        await http.GET("/api/{user_id}/tasks/changes", { params: { path: { user_id: userId }, query }, headers }),
      );
    },

    async health() {
      return unwrap(await http.GET("/health"));
    },

    async ready() {
      return unwrap(await http.GET("/health/ready"));
    },
  };
}

export type TaskClient = ReturnType<typeof createTaskClient>;
