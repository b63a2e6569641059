// The server's API (docs/api.md), same origin. The API key lives in sessionStorage (this tab only)
// and goes out only as a bearer token to this origin; approver keys never leave the page.
const KEY = 'helm.console.apiKey';

export const apiKey = {
  get: (): string => sessionStorage.getItem(KEY) ?? '',
  set: (v: string): void => (v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = apiKey.get();
  if (key) headers.set('authorization', `Bearer ${key}`);
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (!res.ok && res.status !== 202 && res.status !== 422) {
    let code = 'HTTP_ERROR';
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string; hint?: string } };
      code = body.error?.code ?? code;
      message = [body.error?.message ?? message, body.error?.hint].filter(Boolean).join(' — ');
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

export async function getBytes(path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await request(path)).arrayBuffer());
}

/** The log identity approvals are signed for (served with the console, no credential needed). */
export interface ConsoleContext {
  readonly chain_id: string;
  readonly trust_anchor: string;
}
export const getContext = () => getJson<ConsoleContext>('/console/context.json');
