// Calls to the workroute API from the console: the session cookie authenticates,
// the X-Requested-With header is what lets a cookie session change anything.

export const API_VERSION = "v62.0";
export const DATA = `/services/data/${API_VERSION}`;

/** An error answer of the API: Salesforce's shape, [{message, errorCode, fields}]. */
export class ApiError extends Error {
  constructor(status, errorCode, message, fields = [], body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errorCode = errorCode;
    this.fields = fields;
    this.body = body;
  }
}

/** The session is over (expired, revoked, signed out elsewhere): back to the sign-in
 * page, which returns here afterwards. */
export function signInAgain() {
  if (location.pathname.startsWith("/console/login")) return;
  location.replace(`/console/login?next=${encodeURIComponent(location.pathname + location.hash)}`);
}

/** Fetch ``path`` as JSON; a non-2xx answer throws ApiError with the server's message. */
export async function api(path, { method = "GET", body, signal } = {}) {
  const headers = { Accept: "application/json", "X-Requested-With": "workroute-console" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.status === 401 && path !== "/console/session") signInAgain();
  if (!response.ok) {
    const first = Array.isArray(data) ? data[0] : data;
    const message =
      (first && (first.message || first.error_description)) || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, (first && (first.errorCode || first.error)) || "HTTP_ERROR", message,
      (first && first.fields) || [], data);
  }
  return data;
}

/** A SOQL query's records (all pages). */
export async function query(soql) {
  let page = await api(`${DATA}/query?q=${encodeURIComponent(soql)}`);
  const records = [...page.records];
  while (!page.done && page.nextRecordsUrl) {
    page = await api(page.nextRecordsUrl);
    records.push(...page.records);
  }
  return records;
}

/** Quote a value for a SOQL string literal. */
export function soqlString(value) {
  return `'${String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
