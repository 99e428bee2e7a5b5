// The pages' client for the console API: bearer token, JSON both ways, errors as ApiError with the API's code.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
}

export function createApi(token: () => string | undefined, onUnauthenticated: () => void): Api {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`/console/api${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const answer = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    if (response.status === 401) onUnauthenticated();
    if (!response.ok)
      throw new ApiError(
        response.status,
        answer.code ?? `HTTP_${response.status}`,
        answer.message ?? response.statusText,
      );
    return answer as T;
  }
  return {
    get(path, query) {
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(query ?? {}))
        if (value !== undefined && value !== '') search.set(name, String(value));
      const qs = search.toString();
      return call('GET', qs ? `${path}?${qs}` : path);
    },
    post: (path, body) => call('POST', path, body),
  };
}
