// What both test files need: the service under test (started by the pytest suite, or by hand with these
// variables), tokens signed with its secret, fresh users, and bounded waiting.
import { createHmac, randomUUID } from "node:crypto";

export const API_URL = process.env["TASKS_API_URL"] ?? "";
export const SECRET = process.env["TASKS_JWT_SECRET"] ?? "";
export const MISSING = API_URL === "" || SECRET === "" ? "set TASKS_API_URL and TASKS_JWT_SECRET (make test does)" : false;

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** An HS256 token for `sub`, as a front end signing with BETTER_AUTH_SECRET would make. */
export function signToken(sub: string, secret = SECRET, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const head = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(
    JSON.stringify({ sub, iat: now, exp: now + ttlSeconds }),
  )}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

export function newUser(): string {
  return `ts-${randomUUID()}`;
}

/** Resolves once `check` holds, polling; rejects after `timeoutMs` naming what was awaited. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
