// Calls to /v1 with the API key kept in this browser; errors carry the problem's detail.

const KEY = "cornu.apiKey";

export const apiKey = () => localStorage.getItem(KEY);
export const saveApiKey = (key) => localStorage.setItem(KEY, key);
export const forgetApiKey = () => localStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// Errors are application/problem+json: their `detail` says what went wrong.
async function problem(res) {
  let detail = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.detail) detail = body.detail;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, detail);
}

export async function api(path, init = {}, key = apiKey()) {
  const headers = { ...init.headers, Authorization: `Bearer ${key}` };
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) throw await problem(res);
  return res;
}

export const getJSON = async (path, signal) => (await api(path, { signal })).json();
