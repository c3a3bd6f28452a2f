// The daemon's HTTP API. Every URL is relative: the page's <base> points at the daemon's
// root, whatever prefix a proxy put in front of it. `?url=http://host:port/` points the page
// at another daemon instead (the page's policy then allows that one origin, nothing else).

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

function apiBase() {
  const wanted = new URLSearchParams(location.search).get("url");
  if (!wanted) return document.baseURI;
  try {
    const url = new URL(wanted);
    if (url.protocol === "http:" || url.protocol === "https:") {
      return url.href.endsWith("/") ? url.href : `${url.href}/`;
    }
  } catch {
    // Not a URL: fall through to this daemon.
  }
  console.warn(`ignoring ?url=${wanted}: not an http(s) URL`);
  return document.baseURI;
}

export const API_BASE = apiBase();

export function endpoint(path) {
  return new URL(path, API_BASE).href;
}

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

async function errorOf(response) {
  let title = response.statusText;
  let detail = "";
  try {
    const body = await response.json();
    title = body.title || title;
    detail = body.detail || "";
  } catch {
    // Not a problem document (a proxy's error page): the status line says enough.
  }
  return new ApiError(response.status, title, detail || `${response.status} ${title}`.trim());
}

// Marks our own requests: a page on another site cannot add this header without a CORS
// preflight, so the daemon refuses cross-site uploads and interrupts that lack it.
const CLIENT_HEADER = { "X-AgentAPI-Client": "chat" };

async function call(path, init) {
  let response;
  try {
    const headers = { ...CLIENT_HEADER, ...(init.headers || {}) };
    response = await fetch(endpoint(path), { ...init, headers });
  } catch {
    throw new ApiError(0, "Offline", "The daemon cannot be reached.");
  }
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

export function getStatus() {
  return call("status", { cache: "no-store" });
}

export function getMessages() {
  return call("messages", { cache: "no-store" });
}

export function sendMessage(content, type = "user") {
  return call("message", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ content, type }),
  });
}

// ACP mode with --acp-permissions ask: pick one option of a pending permission request.
export function answerPermission(id, optionId) {
  return call("permission", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id, option_id: optionId }),
  });
}

// POST /interrupt where the daemon has it; older daemons get the Esc most agents take.
export async function interrupt() {
  try {
    return await call("interrupt", { method: "POST" });
  } catch (error) {
    if (error.status === 404 || error.status === 405) return sendMessage("\u001b", "raw");
    throw error;
  }
}

export async function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const body = await call("upload", { method: "POST", body: form });
  return body.filePath;
}

export function formatBytes(count) {
  if (count >= 1024 * 1024) return `${(count / (1024 * 1024)).toFixed(1)} MiB`;
  if (count >= 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${count} bytes`;
}
