/** Every 4xx/5xx the service answers carries this envelope; anything else is wrapped to look like one. */
export interface ErrorEnvelope {
  status: "error";
  code: string;
  message: string;
  details: Record<string, unknown> | null;
}

/** A non-2xx answer: the envelope's code, message and details, the HTTP status, and Retry-After when sent. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | null;
  /** Seconds to wait before retrying (429, 503), when the server said so. */
  readonly retryAfter: number | null;
  readonly requestId: string | null;
  readonly headers: Headers;

  constructor(status: number, envelope: Omit<ErrorEnvelope, "status">, headers: Headers) {
    super(envelope.message);
    this.name = "ApiError";
    this.status = status;
    this.code = envelope.code;
    this.details = envelope.details;
    this.headers = headers;
    this.requestId = headers.get("X-Request-ID");
    const retryAfter = Number.parseInt(headers.get("Retry-After") ?? "", 10);
    this.retryAfter = Number.isFinite(retryAfter) ? retryAfter : null;
  }

  /** Validation errors as `{field: message}` (from `details.errors`), for form fields. */
  get fieldErrors(): Record<string, string> {
    const errors = this.details?.["errors"];
    if (!Array.isArray(errors)) return {};
    return Object.fromEntries(
      errors.map((e: { field?: unknown; message?: unknown }) => [String(e.field), String(e.message)]),
    );
  }
}

/** 412: the task changed since the version sent in If-Match. `currentEtag` is the task's ETag now. */
export class PreconditionFailedError extends ApiError {
  readonly currentEtag: string | null;

  constructor(envelope: Omit<ErrorEnvelope, "status">, headers: Headers) {
    super(412, envelope, headers);
    this.name = "PreconditionFailedError";
    this.currentEtag = headers.get("ETag");
  }
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  const b = body as Partial<ErrorEnvelope> | null;
  return typeof b === "object" && b !== null && typeof b.code === "string" && typeof b.message === "string";
}

/** The error for a response: the service's envelope, or (a proxy's page, a bare gateway error) a stand-in. */
export function apiError(response: Response, body: unknown): ApiError {
  const envelope = isEnvelope(body)
    ? { code: body.code, message: body.message, details: body.details ?? null }
    : { code: `HTTP_${response.status}`, message: `HTTP ${response.status} ${response.statusText}`.trim(), details: null };
  if (response.status === 412) return new PreconditionFailedError(envelope, response.headers);
  return new ApiError(response.status, envelope, response.headers);
}
