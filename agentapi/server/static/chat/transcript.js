// The conversation, keyed by message id: a replayed or repeated event updates the message
// it names, so reconnecting never duplicates or clears anything.

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

export class Transcript {
  constructor({ scroller, list, empty, jump, agentName, toast }) {
    this.scroller = scroller;
    this.list = list;
    this.empty = empty;
    this.jump = jump;
    this.agentName = agentName;
    this.toast = toast;
    this.entries = new Map();
    this.lastId = -1;
    this.follow = true;
    this.scrollQueued = false;
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    jump.addEventListener("click", () => this.jumpToLatest());
    list.addEventListener("click", (event) => this.onClick(event));
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

  upsert({ id, role, message, time }) {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = this.create(id, role);
      this.entries.set(id, entry);
      this.insert(entry);
    } else if (entry.text === message && entry.role === role) {
      return entry;
    }
    if (entry.role !== role) this.setRole(entry, role);
    entry.text = message;
    entry.body.replaceChildren(renderText(message, { links: role === "agent" }));
    if (entry.iso !== time) {
      entry.iso = time;
      entry.time.dateTime = time;
      entry.time.textContent = timeLabel(time);
    }
    this.queueScroll();
    return entry;
  }

  create(id, role) {
    // Cloning one prepared tree is several times cheaper than building each node.
    const item = MESSAGE.cloneNode(true);
    item.dataset.id = String(id);
    const [who, time, copy] = item.firstChild.children;
    copy.setAttribute("aria-label", `Copy message ${id + 1}`);
    const entry = { id, role, text: null, item, who, time, body: item.lastChild, iso: "" };
    this.setRole(entry, role);
    return entry;
  }

  setRole(entry, role) {
    entry.role = role;
    entry.item.className = `message message-${role}`;
    entry.who.textContent = role === "user" ? "You" : this.agentName();
  }

  insert(entry) {
    this.empty.hidden = true;
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

  // After a reconnect: drop messages the daemon no longer has (it restarted without a
  // state file) unless this connection has already sent them again.
  retainOnly(keep, seen) {
    for (const [id, entry] of this.entries) {
      if (!keep.has(id) && !seen.has(id)) {
        entry.item.remove();
        this.entries.delete(id);
      }
    }
    this.lastId = Math.max(-1, ...this.entries.keys());
    this.empty.hidden = this.entries.size > 0;
  }

  renameAgent() {
    const name = this.agentName();
    for (const entry of this.entries.values()) {
      if (entry.role === "agent") entry.who.textContent = name;
    }
  }

  lastAgentText() {
    for (let id = this.lastId; id >= 0; id -= 1) {
      const entry = this.entries.get(id);
      if (entry && entry.role === "agent") return entry.text;
    }
    return "";
  }

  async onClick(event) {
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
