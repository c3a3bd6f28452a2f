// A Server-Sent Events stream that reconnects with backoff and says what it is doing.
//
// EventSource's own retry gives up on some errors and hides its timing; here a dropped
// stream is closed and reopened on our schedule, and the page shows the countdown.

import { endpoint } from "./api.js";

// Backoff up to the 3 s the original page retries at, so a restarted daemon is found soon.
const DELAYS_MS = [500, 1000, 2000, 3000];

export class ReconnectingStream {
  constructor(url, handlers, onState = () => {}) {
    this.url = url;
    this.handlers = handlers;
    this.onState = onState;
    this.source = null;
    this.attempt = 0;
    this.timer = 0;
    this.countdown = 0;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.source) this.source.close();
    this.source = null;
  }

  retryNow() {
    if (this.stopped || (this.source && this.source.readyState !== EventSource.CLOSED)) return;
    this.clearTimers();
    this.connect();
  }

  clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.countdown);
  }

  connect() {
    this.onState({ state: "connecting", attempt: this.attempt });
    const source = new EventSource(endpoint(this.url));
    this.source = source;
    source.onopen = () => {
      this.attempt = 0;
      this.onState({ state: "open" });
      if (this.handlers.open) this.handlers.open();
    };
    for (const [name, handler] of Object.entries(this.handlers)) {
      if (name === "open") continue;
      source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
    }
    source.onerror = () => {
      source.close();
      if (this.source !== source || this.stopped) return;
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    const delay = DELAYS_MS[Math.min(this.attempt, DELAYS_MS.length - 1)];
    this.attempt += 1;
    const due = Date.now() + delay;
    const report = () =>
      this.onState({
        state: "waiting",
        attempt: this.attempt,
        seconds: Math.max(0, Math.ceil((due - Date.now()) / 1000)),
      });
    report();
    this.countdown = setInterval(report, 1000);
    this.timer = setTimeout(() => {
      clearInterval(this.countdown);
      this.connect();
    }, delay);
  }
}
