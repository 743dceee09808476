/**
 * Between the global `Request`/`Response` and undici's: undici refuses Deno's `Request` objects and answers
 * with its own `Response` class, and its response body stays pending after an abort, so bodies are watched
 * here.
 *
 * @module
 */

import type { RequestInit as UndiciRequestInit, Response as UndiciResponse } from "undici";

// Bodies undici takes as they are (with a Content-Length); others go through the global Request's encoding.
function isPlainBody(body: unknown): body is string | ArrayBuffer | ArrayBufferView {
  return typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body);
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * undici's arguments for `input` and `init` as the global fetch takes them: the URL, the init, and the
 * signal (for the body). The global `Request` does the checking and the encoding (FormData, Blob,
 * URLSearchParams), so what fetch refuses is refused here with the same `TypeError`.
 */
export function toUndiciArguments(
  input: string | URL | Request,
  init: RequestInit | undefined,
): [string, UndiciRequestInit, AbortSignal | undefined] {
  const request = new Request(input, init);
  const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
  const given = init?.body !== undefined ? init.body : input instanceof Request ? undefined : null;
  let body: UndiciRequestInit["body"] = null;
  if (given !== null && given !== undefined && isPlainBody(given)) body = given as UndiciRequestInit["body"];
  else if (request.body !== null) body = request.body as UndiciRequestInit["body"];
  const undiciInit: UndiciRequestInit = {
    method: request.method,
    headers: [...request.headers],
    body,
    redirect: request.redirect,
    signal: signal ?? undefined,
    // A streamed body goes out as it is produced (the fetch standard's half duplex).
    ...(body instanceof ReadableStream ? { duplex: "half" as const } : {}),
  };
  return [request.url, undiciInit, signal ?? undefined];
}

/** A body that follows `source` and errors when `signal` aborts (undici's own would stay pending). */
function watchedBody(source: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let onAbort: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onAbort = () => {
        const reason = signal.reason ?? new DOMException("The request was aborted", "AbortError");
        controller.error(reason);
        reader.cancel(reason).catch(() => {});
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          signal.removeEventListener("abort", onAbort!);
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        signal.removeEventListener("abort", onAbort!);
        controller.error(error);
      }
    },
    cancel(reason) {
      signal.removeEventListener("abort", onAbort!);
      return reader.cancel(reason);
    },
  });
}

/** The global `Response` for undici's, with its URL and redirect flag, its body erroring on abort. */
export function toGlobalResponse(response: UndiciResponse, signal: AbortSignal | undefined): Response {
  const source = response.body as ReadableStream<Uint8Array> | null;
  const body = source === null || NULL_BODY_STATUSES.has(response.status)
    ? null
    : signal
    ? watchedBody(source, signal)
    : source;
  const global = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
  });
  Object.defineProperties(global, {
    url: { value: response.url },
    redirected: { value: response.redirected },
    type: { value: response.type },
  });
  return global;
}
