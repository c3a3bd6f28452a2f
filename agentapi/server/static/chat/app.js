// The chat page: wires the transcript, the composer, control mode, uploads and the
// terminal view to the daemon's /events stream.

import { getMessages, getStatus } from "./api.js";
import { Composer } from "./composer.js";
import { ControlMode } from "./control.js";
import { ReconnectingStream } from "./stream.js";
import { TerminalView } from "./terminal.js";
import { Transcript } from "./transcript.js";
import { Uploads } from "./uploads.js";

const $ = (id) => document.getElementById(id);
const STATUS_WORDS = { running: "Running", stable: "Stable", offline: "Offline", connecting: "Connecting" };
const TOAST_MS = 8000;
const ANNOUNCE_CHARS = 300;

const state = { status: "connecting", agentName: "Agent", seen: new Set() };

function toast(text, kind = "info") {
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  const words = document.createElement("span");
  words.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", () => item.remove());
  item.append(words, close);
  $("toasts").append(item);
  setTimeout(() => item.remove(), TOAST_MS);
}

function announce(text) {
  $("announcer").textContent = text;
}

const transcript = new Transcript({
  scroller: $("transcript"),
  list: $("messages"),
  empty: $("empty"),
  jump: $("jump"),
  earlier: $("earlier"),
  agentName: () => state.agentName,
  toast,
});

const composer = new Composer({
  form: $("text-mode"),
  draft: $("draft"),
  send: $("send"),
  stop: $("stop"),
  hint: $("hint"),
  toast,
  isRunning: () => state.status === "running",
});

new Uploads({
  button: $("upload"),
  input: $("file-input"),
  dropZone: $("app"),
  overlay: $("drop"),
  draft: $("draft"),
  composer,
  toast,
});

// -- status ----------------------------------------------------------------------------------

function showStatus(status) {
  const previous = state.status;
  state.status = status;
  document.body.dataset.status = status;
  $("status-word").textContent = STATUS_WORDS[status] || status;
  $("embed-status-word").textContent = STATUS_WORDS[status] || status;
  composer.statusChanged(status === "running");
  if (previous === "running" && status === "stable") {
    const reply = transcript.lastAgentText();
    if (reply) announce(`${state.agentName}: ${reply.slice(0, ANNOUNCE_CHARS)}`);
  } else if (status === "running" && previous !== "running") {
    announce(`${state.agentName} is working.`);
  }
}

function showAgentName(name) {
  if (!name || name === state.agentName) return;
  state.agentName = name;
  $("agent-name").textContent = name;
  document.title = `${name} · agentapi`;
  transcript.renameAgent();
}

// -- agent errors ----------------------------------------------------------------------------

const shownErrors = new Set();

function showAgentError({ message, level, time }) {
  const key = `${time}\u0000${message}`;
  if (shownErrors.has(key)) return; // replayed after a reconnect
  shownErrors.add(key);
  const item = document.createElement("li");
  item.className = `agent-error level-${level}`;
  item.setAttribute("role", "alert");
  const words = document.createElement("span");
  words.textContent = `${level === "warning" ? "Warning" : "Error"}: ${message}`;
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Dismiss";
  close.setAttribute("aria-label", `Dismiss: ${message}`);
  close.addEventListener("click", () => item.remove());
  item.append(words, close);
  $("agent-errors").append(item);
}

// -- the conversation stream -----------------------------------------------------------------

function showConnection({ state: phase, seconds, attempt }) {
  const banner = $("connection");
  if (phase === "open") {
    banner.hidden = true;
    return;
  }
  if (phase === "waiting") {
    showStatus("offline");
    banner.hidden = false;
    $("connection-text").textContent = `Connection lost. Reconnecting in ${seconds} s (attempt ${attempt})…`;
  } else if (attempt > 0) {
    $("connection-text").textContent = "Reconnecting…";
  }
}

async function reconcile(seen) {
  // A daemon restarted without its state file has fewer messages than the page shows.
  try {
    const { messages } = await getMessages();
    transcript.retainOnly(new Set(messages.map((m) => m.id)), seen);
  } catch {
    // The stream reconnects on its own; the next open reconciles again.
  }
}

const events = new ReconnectingStream(
  "events?errors=true&parts=true",
  {
    open: () => {
      state.seen = new Set();
      transcript.beginReplay();
      delete document.body.dataset.synced;
      reconcile(state.seen);
    },
    message_update: (body) => {
      state.seen.add(body.id);
      transcript.upsert(body);
    },
    status_change: (body) => {
      transcript.endReplay();
      showAgentName(body.agent_name);
      showStatus(body.status);
      // The replay sends the messages before the status: the page now shows the whole
      // conversation as the daemon has it (tests and people can rely on it).
      document.body.dataset.synced = "true";
    },
    agent_error: showAgentError,
    // ACP mode only: the structure of an agent message (permission requests get buttons).
    message_parts: (body) => transcript.showParts(body),
  },
  showConnection,
);
$("reconnect-now").addEventListener("click", () => events.retryNow());

// -- views and modes -------------------------------------------------------------------------

const terminal = new TerminalView($("screen"));

function showView(name) {
  for (const view of ["chat", "terminal"]) {
    const active = view === name;
    const tab = $(`tab-${view}`);
    tab.setAttribute("aria-selected", String(active));
    tab.tabIndex = active ? 0 : -1;
    $(`panel-${view}`).hidden = !active;
  }
  if (name === "terminal") terminal.show();
  else terminal.hide();
}

for (const view of ["chat", "terminal"]) {
  $(`tab-${view}`).addEventListener("click", () => showView(view));
}
$("tab-chat").parentElement.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
  const next = $("tab-chat").getAttribute("aria-selected") === "true" ? "terminal" : "chat";
  showView(next);
  $(`tab-${next}`).focus();
});

function showMode(mode) {
  const control = mode === "control";
  $("mode-text").setAttribute("aria-checked", String(!control));
  $("mode-control").setAttribute("aria-checked", String(control));
  $("text-mode").hidden = control;
  $("control-mode").hidden = !control;
  (control ? $("capture") : $("draft")).focus();
}

$("mode-text").addEventListener("click", () => showMode("text"));
$("mode-control").addEventListener("click", () => showMode("control"));
new ControlMode({
  capture: $("capture"),
  keys: $("keys"),
  trail: $("trail"),
  toast,
  leave: () => $("mode-text").focus(),
});

// -- start -----------------------------------------------------------------------------------

getStatus()
  .then((body) => {
    showAgentName(body.agent_name);
    if (state.status === "connecting") showStatus(body.status);
  })
  .catch(() => {});
events.start();
