// The conversation, keyed by message id: a replayed or repeated event updates the message
// it names, so reconnecting never duplicates or clears anything.

import { answerPermission } from "./api.js";
import { renderText } from "./text.js";

const FOLLOW_SLACK_PX = 48;

// One formatter for all messages: toLocaleTimeString builds a new one on every call, which
// dominated the cost of rendering a long transcript.
const CLOCK = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });

function timeLabel(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : CLOCK.format(when);
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-HTTP pages behind a proxy have no clipboard API: copy through a selection.
  const area = document.createElement("textarea");
  area.value = text;
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy refused");
}

const MESSAGE = (() => {
  const item = document.createElement("li");
  const meta = document.createElement("div");
  meta.className = "meta";
  const who = document.createElement("span");
  who.className = "who";
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy";
  copy.textContent = "Copy";
  meta.append(who, document.createElement("time"), copy);
  const body = document.createElement("pre");
  body.className = "body";
  item.append(meta, body);
  return item;
})();

// A replay longer than this gets nodes for its newest messages only; the older ones wait
// behind "Show earlier messages" (or the reader scrolling up), so a long conversation
// opens as fast as a short one.
const RENDER_BATCH = 200;
// Updates closer together than a frame are applied together, in the next frame.
const FRAME_MS = 16;
// A replay is the messages a (re)opened stream sends before its status; if the status never
// comes (an older daemon), the replay is taken as over after this long.
const REPLAY_MAX_MS = 1000;

export class Transcript {
  constructor({ scroller, list, empty, jump, earlier, agentName, toast }) {
    this.scroller = scroller;
    this.list = list;
    this.empty = empty;
    this.jump = jump;
    this.earlier = earlier;
    this.agentName = agentName;
    this.toast = toast;
    this.entries = new Map();
    this.renderFrom = 0; // messages with a lower id have no nodes yet
    this.lastId = -1; // the newest message with nodes
    this.pending = new Map();
    // ACP mode: pending permission requests by message id, shown under their message.
    this.asking = new Map();
    this.flushQueued = false;
    this.lastApply = -Infinity;
    this.replaying = false;
    this.replayTimer = 0;
    this.follow = true;
    this.scrollQueued = false;
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    jump.addEventListener("click", () => this.jumpToLatest());
    earlier.addEventListener("click", () => this.showEarlier());
    list.addEventListener("click", (event) => this.onClick(event));
    new IntersectionObserver((seen) => {
      if (seen.some((e) => e.isIntersecting) && !this.follow) this.showEarlier();
    }).observe(earlier);
  }

  onScroll() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    this.follow = scrollHeight - scrollTop - clientHeight <= FOLLOW_SLACK_PX;
    if (this.follow) this.jump.hidden = true;
  }

  jumpToLatest() {
    this.follow = true;
    this.jump.hidden = true;
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Layout is read once per frame, however many messages arrived in it.
  queueScroll() {
    if (this.scrollQueued) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      if (this.follow) this.scroller.scrollTop = this.scroller.scrollHeight;
      else this.jump.hidden = false;
    });
  }

  // The replay is gathered and shown at its end, in one go, however many frames it took.
  beginReplay() {
    this.replaying = true;
    clearTimeout(this.replayTimer);
    this.replayTimer = setTimeout(() => this.endReplay(), REPLAY_MAX_MS);
  }

  endReplay() {
    if (!this.replaying) return;
    this.replaying = false;
    clearTimeout(this.replayTimer);
    this.flush();
  }

  // A lone update is shown at once; a burst is shown in the next frame, together.
  upsert(body) {
    const entry = this.entries.get(body.id);
    if (entry && entry.text === body.message && entry.role === body.role && entry.iso === body.time) {
      return;
    }
    this.pending.set(body.id, body);
    if (this.replaying) return;
    if (!this.flushQueued && performance.now() - this.lastApply > FRAME_MS) {
      this.flush();
      return;
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  flush() {
    this.flushQueued = false;
    this.lastApply = performance.now();
    const bodies = [...this.pending.values()];
    this.pending.clear();
    const fresh = bodies.filter((b) => !this.entries.has(b.id) && b.id >= this.renderFrom);
    if (fresh.length > RENDER_BATCH) {
      fresh.sort((a, b) => a.id - b.id);
      this.collapseBelow(fresh[fresh.length - RENDER_BATCH].id);
    }
    for (const body of bodies) {
      let entry = this.entries.get(body.id);
      if (!entry) {
        entry = { id: body.id, role: body.role, text: "", iso: "", item: null };
        this.entries.set(body.id, entry);
      }
      entry.role = body.role;
      entry.text = body.message;
      entry.iso = body.time;
      if (entry.id >= this.renderFrom) this.render(entry);
    }
    this.empty.hidden = this.entries.size > 0;
    this.updateEarlier();
    this.queueScroll();
  }

  render(entry) {
    if (!entry.item) {
      // Cloning one prepared tree is several times cheaper than building each node.
      const item = MESSAGE.cloneNode(true);
      item.dataset.id = String(entry.id);
      const [who, time, copy] = item.firstChild.children;
      copy.setAttribute("aria-label", `Copy message ${entry.id + 1}`);
      Object.assign(entry, { item, who, time, body: item.lastChild, shown: {} });
      this.insert(entry);
    }
    const shown = entry.shown;
    if (shown.role !== entry.role) {
      entry.item.className = `message message-${entry.role}`;
      entry.who.textContent = entry.role === "user" ? "You" : this.agentName();
    }
    if (shown.text !== entry.text || shown.role !== entry.role) {
      entry.body.replaceChildren(renderText(entry.text, { links: entry.role === "agent" }));
    }
    if (shown.iso !== entry.iso) {
      entry.time.dateTime = entry.iso;
      entry.time.textContent = timeLabel(entry.iso);
    }
    entry.shown = { role: entry.role, text: entry.text, iso: entry.iso };
    this.renderPermissions(entry);
  }

  // ACP mode (message_parts events): a pending permission request is answered from here,
  // one button per option. Kept until the message is rendered, if it is not yet.
  showParts({ id, parts }) {
    const pending = parts.filter((p) => p.type === "permission" && p.status === "pending");
    if (pending.length) this.asking.set(id, pending);
    else this.asking.delete(id);
    const entry = this.entries.get(id);
    if (entry && entry.item) this.renderPermissions(entry);
  }

  renderPermissions(entry) {
    const pending = this.asking.get(entry.id) || [];
    const key = JSON.stringify(pending.map((p) => p.permission_id));
    // A message collapsed and rendered again has a new item: the buttons go on it again.
    const attached = entry.permissions?.parentNode === entry.item;
    if (entry.permissionsKey === key && (attached || !pending.length)) return;
    entry.permissionsKey = key;
    entry.permissions?.remove();
    entry.permissions = null;
    if (!pending.length) return;
    const box = document.createElement("div");
    box.className = "permissions";
    for (const request of pending) {
      const group = document.createElement("div");
      group.className = "permission";
      group.setAttribute("role", "group");
      const label = `Allow ${request.title || "a tool call"}?`;
      group.setAttribute("aria-label", label);
      const question = document.createElement("span");
      question.textContent = label;
      group.append(question);
      for (const option of request.options || []) {
        const button = document.createElement("button");
        button.type = "button";
        const kind = option.kind.startsWith("allow") ? "allow" : "reject";
        button.className = `permission-option ${kind}`;
        button.textContent = option.name;
        button.dataset.permission = String(request.permission_id);
        button.dataset.option = option.option_id;
        group.append(button);
      }
      box.append(group);
    }
    entry.permissions = box;
    entry.item.append(box);
    this.queueScroll();
  }

  async answer(button) {
    const buttons = button.closest(".permission").querySelectorAll("button");
    for (const each of buttons) each.disabled = true;
    try {
      await answerPermission(Number(button.dataset.permission), button.dataset.option);
    } catch (error) {
      for (const each of buttons) each.disabled = false;
      this.toast(`Could not answer: ${error.message || error}`, "error");
    }
  }

  insert(entry) {
    if (entry.id > this.lastId) {
      this.list.append(entry.item);
      this.lastId = entry.id;
      return;
    }
    for (const item of this.list.children) {
      if (Number(item.dataset.id) > entry.id) {
        this.list.insertBefore(entry.item, item);
        return;
      }
    }
    this.list.append(entry.item);
  }

  collapseBelow(id) {
    for (const entry of this.entries.values()) {
      if (entry.id < id && entry.item) {
        entry.item.remove();
        entry.item = null;
      }
    }
    this.renderFrom = id;
  }

  hiddenIds() {
    return [...this.entries.keys()].filter((id) => id < this.renderFrom).sort((a, b) => a - b);
  }

  updateEarlier() {
    const count = this.hiddenIds().length;
    this.earlier.hidden = count === 0;
    this.earlier.textContent = `Show ${count} earlier message${count === 1 ? "" : "s"}`;
  }

  // The previous batch of older messages, keeping the reader's place on the screen.
  showEarlier() {
    const hidden = this.hiddenIds();
    if (hidden.length === 0) return;
    const batch = hidden.slice(-RENDER_BATCH);
    const before = this.scroller.scrollHeight;
    this.renderFrom = batch.length === hidden.length ? 0 : batch[0];
    for (const id of batch.reverse()) this.render(this.entries.get(id));
    this.scroller.scrollTop += this.scroller.scrollHeight - before;
    this.updateEarlier();
  }

  // After a reconnect: drop messages the daemon no longer has (it restarted without a
  // state file) unless this connection has already sent them again.
  retainOnly(keep, seen) {
    for (const [id, entry] of this.entries) {
      if (!keep.has(id) && !seen.has(id) && !this.pending.has(id)) {
        if (entry.item) entry.item.remove();
        this.entries.delete(id);
      }
    }
    this.lastId = -1;
    for (const entry of this.entries.values()) {
      if (entry.item && entry.id > this.lastId) this.lastId = entry.id;
    }
    this.empty.hidden = this.entries.size > 0;
    this.updateEarlier();
  }

  renameAgent() {
    const name = this.agentName();
    for (const entry of this.entries.values()) {
      if (entry.role === "agent" && entry.item) entry.who.textContent = name;
    }
  }

  lastAgentText() {
    if (this.pending.size) this.flush();
    let last = null;
    for (const entry of this.entries.values()) {
      if (entry.role === "agent" && (!last || entry.id > last.id)) last = entry;
    }
    return last ? last.text : "";
  }

  async onClick(event) {
    const option = event.target.closest("button.permission-option");
    if (option) {
      await this.answer(option);
      return;
    }
    const button = event.target.closest("button.copy");
    if (!button) return;
    const entry = this.entries.get(Number(button.closest("li").dataset.id));
    if (!entry) return;
    try {
      await copyText(entry.text);
      button.textContent = "Copied";
      setTimeout(() => {
        button.textContent = "Copy";
      }, 1500);
    } catch {
      this.toast("Could not copy: the browser refused the clipboard.", "error");
    }
  }
}
