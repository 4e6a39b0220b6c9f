// A real browser on another origin than the API: headless Chromium (playwright-core, the system's
// Chromium) loads test/browser/index.html, whose bundled client talks to the service through CORS:
// preflights for PATCH, If-Match and Idempotency-Key, and the ETag and Location headers exposed to it.
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, it } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { createTaskClient } from "../src/index.js";
import { API_URL, MISSING, newUser, signToken } from "./support.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const PAGE_PORT = Number(process.env["TASKS_PAGE_PORT"] ?? 0);
const CHROMIUM_PATH = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const SCREENSHOT = process.env["TASKS_SCREENSHOT"] ?? join(HERE, "..", "test-output", "browser.png");
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const skip = MISSING || (PAGE_PORT === 0 ? "set TASKS_PAGE_PORT to the origin allowed by CORS_ORIGINS" : false);

let pageServer: Server;
let context: BrowserContext;
let profile: string;

before(async () => {
  if (skip) return;
  const bundle = await build({
    entryPoints: [join(HERE, "browser", "page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
  });
  const files: Record<string, [string, string | Uint8Array]> = {
    "/": ["text/html; charset=utf-8", readFileSync(join(HERE, "browser", "index.html"))],
    "/page.js": ["text/javascript; charset=utf-8", bundle.outputFiles[0]!.contents],
  };
  pageServer = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://page").pathname];
    response.writeHead(file ? 200 : 404, { "Content-Type": file?.[0] ?? "text/plain" }).end(file?.[1] ?? "");
  });
  await new Promise<void>((resolve) => pageServer.listen(PAGE_PORT, "127.0.0.1", resolve));
  profile = mkdtempSync(join(tmpdir(), "tasks-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: { width: 1000, height: 460 },
    timeout: 60_000,
  });
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it("uses the client from another origin: create, list, If-Match, ETag, Location, a live event", { skip }, async () => {
  const user = newUser();
  const token = signToken(user);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // The browser logs every non-2xx answer; the one 412 the page provokes on purpose is expected.
    const expected = message.text().includes("status of 412");
    if (message.type() === "error" && !expected) problems.push(`console: ${message.text()}`);
  });
  await page.goto(`http://127.0.0.1:${PAGE_PORT}/#${new URLSearchParams({ api: API_URL, token })}`);
  const failed = () => page.evaluate(() => window.result?.error);
  await page.waitForFunction(() => window.result?.ready || window.result?.error, null, { timeout: 30_000 });
  assert.equal(await failed(), undefined, problems.join("\n"));

  // Another client (this process, another device) writes; the page hears of it and pulls the feed.
  await createTaskClient({ baseUrl: API_URL, token: () => token }).create({ title: "From another client" });
  await page.waitForFunction(() => window.result.done || window.result.error, null, { timeout: 30_000 });
  const result = await page.evaluate(() => window.result);
  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });

  assert.equal(result.error, undefined, problems.join("\n"));
  assert.equal(result.createdEtag, '"1"');
  assert.match(String(result.location), new RegExp(`/api/${user}/tasks/[0-9a-f-]{36}$`));
  assert.equal(result.listedTotal, 1);
  assert.equal(result.patchedEtag, '"2"');
  assert.equal(result.staleStatus, 412);
  assert.equal(result.staleCurrentEtag, '"2"');
  assert.ok(result.events >= 2, `events: ${result.events}`);
  assert.equal(result.done, true);
  assert.deepEqual(problems, []);
  const rows = await page.locator("#tasks tr").allTextContents();
  assert.deepEqual(rows.length, 2, rows.join("\n"));
});
