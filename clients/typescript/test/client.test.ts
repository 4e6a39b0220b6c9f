// The client against a live service: every route, typed errors, If-Match, sync across two client
// instances (with a 410 after a purge), and live events that pull the feed after a write elsewhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import {
  ApiError,
  PreconditionFailedError,
  TaskSync,
  cachedToken,
  createTaskClient,
  liveEvents,
  liveSync,
  mapStore,
  type Task,
  type TaskClient,
} from "../src/index.js";
import { API_URL, MISSING, SECRET, newUser, signToken, until } from "./support.js";

function clientFor(user: string, fetch?: typeof globalThis.fetch): TaskClient {
  return createTaskClient({ baseUrl: API_URL, token: async () => signToken(user), ...(fetch ? { fetch } : {}) });
}

async function rejectsWith<E extends ApiError>(promise: Promise<unknown>, type: new (...a: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => assert.fail("expected an error"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  return error;
}

/** A client's own copy of the user's tasks: a Map and a cursor kept by the storage callbacks. */
function replica(client: TaskClient) {
  const tasks = new Map<string, Task>();
  const saved: { cursor: string | null } = { cursor: null };
  const sync = new TaskSync(client, mapStore(tasks, { load: () => saved.cursor, save: (c) => void (saved.cursor = c) }));
  return { tasks, saved, sync };
}

function sameTasks(held: Map<string, Task>, server: Task[]): void {
  assert.deepEqual(
    [...held.values()].sort((a, b) => a.id.localeCompare(b.id)),
    [...server].sort((a, b) => a.id.localeCompare(b.id)),
  );
}

describe("task client", { skip: MISSING }, () => {
  it("answers the health routes", async () => {
    const client = clientFor(newUser());
    assert.deepEqual(await client.health(), { status: "ok" });
    assert.equal((await client.ready()).database, "ok");
  });

  it("goes through every task route", async () => {
    const client = clientFor(newUser());
    const key = randomUUID();
    const created = await client.create({ title: "  Write the report ", tags: ["Work", "q1"] }, { idempotencyKey: key });
    assert.equal(created.task.title, "Write the report");
    assert.deepEqual(created.task.tags, ["work", "q1"]);
    assert.equal(created.etag, '"1"');
    assert.ok(created.location?.endsWith(`/tasks/${created.task.id}`), String(created.location));
    const again = await client.create({ title: "  Write the report ", tags: ["Work", "q1"] }, { idempotencyKey: key });
    assert.equal(again.task.id, created.task.id);

    const fetched = await client.get(created.task.id);
    assert.deepEqual(fetched.task, created.task);
    assert.equal(fetched.etag, '"1"');
    assert.equal(await client.getIfChanged(created.task), null);

    const second = await client.create({ title: "Second", priority: "high", status: "in_progress" });
    const listed = await client.list({ tag: ["work"] });
    assert.deepEqual(
      listed.tasks.map((t) => t.id),
      [created.task.id],
    );
    assert.equal(listed.meta.total, 1);
    const all = await client.listAll({ limit: 1, sort: "title" });
    assert.deepEqual(
      all.map((t) => t.title),
      ["Second", "Write the report"],
    );

    const replaced = await client.replace(second.task.id, { title: "Replaced" });
    assert.equal(replaced.task.priority, "medium"); // PUT: omitted fields go back to their defaults
    assert.equal(replaced.etag, '"2"');
    const patched = await client.update(second.task.id, { description: "Some words" });
    assert.equal(patched.task.description, "Some words");
    assert.equal(patched.task.title, "Replaced");
    assert.notEqual(await client.getIfChanged(replaced.task), null);

    const toggled = await client.complete(second.task.id);
    assert.equal(toggled.task.status, "completed");
    assert.ok(toggled.task.completed_at);
    const reopened = await client.complete(second.task.id, { completed: false });
    assert.equal(reopened.task.status, "pending");
    assert.equal(reopened.task.version, 5);

    await client.delete(second.task.id);
    const gone = await rejectsWith(client.get(second.task.id), ApiError);
    assert.equal(gone.status, 404);
    assert.equal(gone.code, "TASK_NOT_FOUND");
    assert.equal((await client.list()).meta.total, 1);
  });

  it("moves tasks among siblings and under a parent, and creates with a client-chosen id", async () => {
    const client = clientFor(newUser());
    const id = randomUUID(); // an offline client names its tasks itself
    const a = (await client.create({ id, title: "a" })).task;
    assert.equal(a.id, id);
    const exists = await rejectsWith(client.create({ id, title: "again" }), ApiError);
    assert.deepEqual([exists.status, exists.code], [409, "TASK_EXISTS"]);
    const b = (await client.create({ title: "b" })).task;
    const c = (await client.create({ title: "c" })).task;
    const first = await client.move(c.id, { after_id: null }, { ifMatch: c });
    assert.equal(first.etag, '"2"');
    const order = await client.listAll({ parent_id: "none", sort: "position" });
    assert.deepEqual(
      order.map((t) => t.title),
      ["c", "a", "b"],
    );
    const sub = await client.move(b.id, { parent_id: a.id, after_id: null });
    assert.equal(sub.task.parent_id, a.id);
    const children = await client.list({ parent_id: a.id });
    assert.deepEqual(
      children.tasks.map((t) => t.id),
      [b.id],
    );
    await rejectsWith(client.move(c.id, { after_id: null }, { ifMatch: c }), PreconditionFailedError);
    const notSibling = await rejectsWith(client.move(c.id, { after_id: b.id }), ApiError);
    assert.deepEqual([notSibling.status, Object.keys(notSibling.fieldErrors)], [422, ["after_id"]]);
  });

  it("runs a batch, and an atomic one that fails changes nothing", async () => {
    const client = clientFor(newUser());
    const id = randomUUID();
    const results = await client.batch(
      [
        { op: "create", data: { id, title: "made offline" } },
        { op: "update", id, data: { title: "edited offline" } },
        { op: "complete", id },
        { op: "delete", id: randomUUID() },
      ],
      { idempotencyKey: randomUUID() },
    );
    assert.deepEqual(
      results.map((r) => r.status),
      [201, 200, 200, 404],
    );
    assert.equal((await client.get(id)).task.title, "edited offline");
    const aborted = await rejectsWith(
      client.batch([{ op: "update", id, data: { title: "never" } }, { op: "delete", id: randomUUID() }], { atomic: true }),
      ApiError,
    );
    assert.deepEqual([aborted.status, aborted.code, aborted.details?.["index"]], [409, "BATCH_ABORTED", 1]);
    assert.equal((await client.get(id)).task.title, "edited offline");
  });

  it("throws one error class carrying the envelope", async () => {
    const user = newUser();
    const client = clientFor(user);
    const invalid = await rejectsWith(client.create({ title: "   ", tags: ["x".repeat(51)] }), ApiError);
    assert.equal(invalid.status, 422);
    assert.equal(invalid.code, "VALIDATION_ERROR");
    assert.deepEqual(Object.keys(invalid.fieldErrors).sort(), ["tags[0]", "title"]);
    assert.ok(invalid.requestId);

    const key = randomUUID();
    await client.create({ title: "One" }, { idempotencyKey: key });
    const reused = await rejectsWith(client.create({ title: "Two" }, { idempotencyKey: key }), ApiError);
    assert.deepEqual([reused.status, reused.code], [409, "IDEMPOTENCY_KEY_REUSED"]);

    const forged = createTaskClient({ baseUrl: API_URL, token: () => signToken(user, "another-secret-".repeat(4)) });
    const unauthorized = await rejectsWith(forged.list(), ApiError);
    assert.deepEqual([unauthorized.status, unauthorized.code], [401, "UNAUTHORIZED"]);

    // The typed raw client reaches any path; a path of another user is 403.
    const { headers } = await client.authorize();
    const { error, response } = await client.http.GET("/api/{user_id}/tasks", {
      params: { path: { user_id: newUser() } },
      headers,
    });
    assert.equal(response.status, 403);
    assert.equal((error as { code?: string }).code, "FORBIDDEN");
  });

  it("writes over a version with If-Match, and a stale one is a PreconditionFailedError", async () => {
    const client = clientFor(newUser());
    const { task } = await client.create({ title: "Draft" });
    const updated = await client.update(task.id, { title: "Edited" }, { ifMatch: task });
    assert.equal(updated.task.version, 2);
    const stale = await rejectsWith(client.update(task.id, { title: "Lost update" }, { ifMatch: task }), PreconditionFailedError);
    assert.deepEqual([stale.status, stale.code, stale.currentEtag], [412, "PRECONDITION_FAILED", '"2"']);
    await rejectsWith(client.complete(task.id, undefined, { ifMatch: 1 }), PreconditionFailedError);
    await rejectsWith(client.delete(task.id, { ifMatch: '"7"' }), PreconditionFailedError);
    assert.equal((await client.get(task.id)).task.title, "Edited");
    await client.delete(task.id, { ifMatch: updated.etag });
  });

  it("keeps two client instances in step through the change feed", async () => {
    const user = newUser();
    const [a, b] = [clientFor(user), clientFor(user)];
    const [left, right] = [replica(a), replica(b)];
    const first = await a.create({ title: "one" });
    await a.create({ title: "two" });
    await a.create({ title: "three" });

    const full = await right.sync.pull();
    assert.equal(full.fullSync, true);
    sameTasks(right.tasks, await a.listAll());
    assert.ok(right.saved.cursor);
    assert.equal((await right.sync.pull()).changed, 0); // nothing new since the stored cursor

    await a.update(first.task.id, { title: "one, edited" });
    const doomed = (await a.create({ title: "short-lived" })).task;
    await a.delete(doomed.id);
    const incremental = await right.sync.pull();
    assert.equal(incremental.fullSync, false);
    sameTasks(right.tasks, await a.listAll());
    assert.equal(right.tasks.get(first.task.id)?.title, "one, edited");

    await b.complete(first.task.id);
    await left.sync.pull();
    sameTasks(left.tasks, await b.listAll());
    assert.equal(left.tasks.get(first.task.id)?.status, "completed");

    // Pages: a small limit makes the walk follow has_more.
    const paged = replica(b);
    const walk = await new TaskSync(b, mapStore(paged.tasks, { load: () => null, save: () => {} }), { limit: 1 }).pull();
    assert.equal(walk.pages, 3);
    assert.equal(paged.tasks.size, 3);
  });

  it("syncs in full again when the stored cursor has expired (410)", { skip: purgeMissing() }, async () => {
    const user = newUser();
    const client = clientFor(user);
    const { tasks, saved, sync } = replica(client);
    const kept = (await client.create({ title: "kept" })).task;
    const removed = (await client.create({ title: "removed" })).task;
    await sync.pull();
    const stale = saved.cursor;
    await client.delete(removed.id);
    purgeEveryTombstone();
    const expired = await rejectsWith(client.changes({ cursor: stale ?? undefined }), ApiError);
    assert.deepEqual([expired.status, expired.code], [410, "SYNC_CURSOR_EXPIRED"]);

    tasks.set("phantom", { ...kept, id: "phantom" }); // anything held locally is dropped by the resync
    const result = await sync.pull();
    assert.equal(result.fullSync, true);
    assert.deepEqual([...tasks.keys()], [kept.id]);
    assert.notEqual(saved.cursor, stale);
  });

  it("pulls after a live event caused by another client", async () => {
    const user = newUser();
    const writer = clientFor(user);
    const reader = clientFor(user);
    const { tasks, sync } = replica(reader);
    const errors: unknown[] = [];
    const live = liveSync(reader, sync, { onError: (e) => errors.push(e) });
    try {
      await until("the first event", () => live.lastEventId !== null);
      const { task } = await writer.create({ title: "from another device" });
      await until("the task to arrive through the event and the feed", () => tasks.has(task.id));
      await writer.update(task.id, { title: "edited elsewhere" });
      await until("the edit to arrive", () => tasks.get(task.id)?.title === "edited elsewhere");
    } finally {
      live.close();
      await live.closed;
    }
    assert.deepEqual(errors, []);
  });

  it("reconnects with Last-Event-ID after the server ends the stream", async () => {
    const user = newUser();
    const sent: (string | null)[] = [];
    const recording: typeof fetch = (input, init) => {
      if (String(input instanceof Request ? input.url : input).endsWith("/events")) {
        sent.push(new Headers(init?.headers).get("Last-Event-ID"));
      }
      return fetch(input, init);
    };
    const client = clientFor(user, recording);
    const heads: string[] = [];
    let opens = 0;
    const live = liveEvents(client, { onChanged: (head) => heads.push(head), onOpen: () => (opens += 1) });
    try {
      // The test server ends streams after SSE_MAX_SECONDS=2; the client waits the server's retry (3 s).
      await until("a second stream", () => opens >= 2, 20_000);
      assert.equal(sent[0], null);
      assert.ok(heads.length >= 1);
      assert.equal(sent[1], live.lastEventId); // nothing changed: the resume point is the head it had
      const before = heads.length; // counted before the write: its event may arrive before create() returns
      await client.create({ title: "after the reconnect" });
      await until("an event after the reconnect", () => heads.length > before);
    } finally {
      live.close();
      await live.closed;
    }
  });

  it("stops on a token the server refuses", async () => {
    const client = createTaskClient({ baseUrl: API_URL, token: () => signToken(newUser(), "x".repeat(40)) });
    const live = liveEvents(client, { onChanged: () => {} });
    await assert.rejects(live.closed, (e: unknown) => e instanceof ApiError && e.status === 401);
  });

  it("fetches a cached token once per lifetime", async () => {
    let calls = 0;
    const user = newUser();
    const client = createTaskClient({
      baseUrl: API_URL,
      token: cachedToken(async () => {
        calls += 1;
        return signToken(user);
      }),
    });
    await Promise.all([client.list(), client.list(), client.create({ title: "t" })]);
    assert.equal(calls, 1);
    assert.ok(SECRET);
  });
});

function purgeMissing(): string | false {
  return process.env["TASKS_PYTHON"] && process.env["TASKS_DATABASE_URL"] ? false : "needs TASKS_PYTHON and TASKS_DATABASE_URL";
}

/** `python -m service purge` with no retention: every tombstone goes and the horizon moves past them. */
function purgeEveryTombstone(): void {
  const result = spawnSync(process.env["TASKS_PYTHON"]!, ["-m", "service", "purge"], {
    cwd: process.env["TASKS_REPO"],
    env: { ...process.env, DATABASE_URL: process.env["TASKS_DATABASE_URL"], SYNC_RETENTION_DAYS: "0" },
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
}
