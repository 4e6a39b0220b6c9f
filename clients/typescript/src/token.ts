/** Where tokens come from: any function, e.g. `async () => (await authClient.token()).data!.token`. */
export type TokenProvider = () => Promise<string> | string;

interface Claims {
  sub?: unknown;
  exp?: unknown;
}

/** The token's claims, decoded without verification: the server verifies; the client only reads. */
export function claimsOf(token: string): Claims {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new TypeError("not a JWT: expected header.payload.signature");
  const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), "=")), (c) =>
    c.charCodeAt(0),
  );
  return JSON.parse(new TextDecoder().decode(bytes)) as Claims;
}

/** The user id the API paths need: the token's `sub`. */
export function userIdOf(token: string): string {
  const { sub } = claimsOf(token);
  if (typeof sub !== "string" || sub === "") throw new TypeError("the token has no `sub` claim");
  return sub;
}

/**
 * Reuse a token until `marginSeconds` before its `exp`, so a provider that makes a request (Better Auth's
 * `authClient.token()`) runs once per token, not once per API call. Concurrent callers share one fetch.
 */
export function cachedToken(provider: TokenProvider, marginSeconds = 60): TokenProvider {
  let current: { token: string; expires: number } | null = null;
  let pending: Promise<string> | null = null;
  return () => {
    if (current !== null && Date.now() / 1000 < current.expires - marginSeconds) return current.token;
    pending ??= Promise.resolve(provider())
      .then((token) => {
        const { exp } = claimsOf(token);
        current = { token, expires: typeof exp === "number" ? exp : 0 };
        return token;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  };
}
