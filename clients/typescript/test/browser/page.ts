// The page the browser test loads from its own origin: the bundled client signs in with the token in the
// URL's fragment, creates, lists, patches with If-Match, reads ETag and Location, and keeps a synced list
// that a live event updates. What it saw goes to window.result for the test and onto the page.
import { PreconditionFailedError, TaskSync, createTaskClient, liveEvents, mapStore, type Task } from "../../src/index.js";

interface Result {
  createdEtag?: string;
  location?: string | null;
  listedTotal?: number;
  patchedEtag?: string;
  staleStatus?: number;
  staleCurrentEtag?: string | null;
  events: number;
  ready?: boolean;
  done?: boolean;
  error?: string;
}

declare global {
  interface Window {
    result: Result;
  }
}

const result: Result = (window.result = { events: 0 });
const params = new URLSearchParams(location.hash.slice(1));
const client = createTaskClient({ baseUrl: params.get("api") ?? "", token: async () => params.get("token") ?? "" });
const tasks = new Map<string, Task>();
const sync = new TaskSync(
  client,
  mapStore(tasks, {
    load: () => localStorage.getItem("tasks-cursor"),
    save: (cursor) => localStorage.setItem("tasks-cursor", cursor),
  }),
);

function log(line: string, ok = true): void {
  const item = document.createElement("li");
  item.textContent = `${ok ? "✔" : "✘"} ${line}`;
  item.className = ok ? "ok" : "bad";
  document.querySelector("#log")!.append(item);
}

function render(): void {
  const rows = [...tasks.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  document.querySelector("#tasks")!.replaceChildren(
    ...rows.map((task) => {
      const row = document.createElement("tr");
      for (const text of [task.title, task.status, task.tags.join(", "), `"${task.version}"`]) {
        row.append(Object.assign(document.createElement("td"), { textContent: text }));
      }
      return row;
    }),
  );
}

async function main(): Promise<void> {
  const { userId } = await client.authorize();
  document.querySelector("#user")!.textContent = `signed in as ${userId}, API ${client.baseUrl}, page ${location.origin}`;

  const created = await client.create({ title: "Buy milk", tags: ["home"] }, { idempotencyKey: crypto.randomUUID() });
  result.createdEtag = created.etag;
  result.location = created.location;
  log(`POST with Idempotency-Key: 201, ETag ${created.etag}, Location ${created.location}`);

  const listed = await client.list();
  result.listedTotal = listed.meta.total;
  log(`GET list: ${listed.meta.total} task`);

  const patched = await client.update(created.task.id, { title: "Buy oat milk" }, { ifMatch: created.task });
  result.patchedEtag = patched.etag;
  log(`PATCH with If-Match ${created.etag}: 200, ETag ${patched.etag}`);

  try {
    await client.update(created.task.id, { title: "Lost update" }, { ifMatch: created.task });
    log("PATCH with a stale If-Match was accepted", false);
  } catch (error) {
    if (!(error instanceof PreconditionFailedError)) throw error;
    result.staleStatus = error.status;
    result.staleCurrentEtag = error.currentEtag;
    log(`PATCH with a stale If-Match: ${error.status} ${error.code}, current ETag ${error.currentEtag}`);
  }

  liveEvents(client, {
    onChanged: async (head) => {
      result.events += 1;
      await sync.pullIfBehind(head);
      render();
      if (result.events === 1) {
        log(`live: first event, synced ${tasks.size} task; waiting for a change from another client`);
        result.ready = true;
      } else if ([...tasks.values()].some((t) => t.title === "From another client")) {
        log(`live: event ${result.events}, pulled the change feed: the other client's task is here`);
        result.done = true;
      }
    },
    onError: (error) => log(`live: ${String(error)}`, false),
  });
}

main().catch((error: unknown) => {
  result.error = String(error);
  log(String(error), false);
});
