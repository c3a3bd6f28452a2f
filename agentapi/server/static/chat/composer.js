// Text mode: the draft, Send, Stop and the hint line that says why a send did not go.

import { sendMessage, interrupt } from "./api.js";

export class Composer {
  constructor({ form, draft, send, stop, hint, toast, isRunning }) {
    this.form = form;
    this.draft = draft;
    this.send = send;
    this.stop = stop;
    this.hint = hint;
    this.toast = toast;
    this.isRunning = isRunning;
    this.sending = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    draft.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    stop.addEventListener("click", () => this.interrupt());
  }

  say(text, kind = "info") {
    this.hint.textContent = text;
    this.hint.dataset.kind = kind;
  }

  statusChanged(running) {
    this.stop.hidden = !running;
    if (running) this.say("The agent is working; you can send when it is done, or Stop it.");
    else if (this.hint.dataset.kind !== "error") this.say("");
  }

  async submit() {
    const content = this.draft.value;
    if (!content.trim()) return;
    if (this.sending) {
      this.say("Still sending the previous message; your draft is kept.", "error");
      return;
    }
    this.sending = true;
    this.send.disabled = true;
    this.say("Sending…");
    try {
      await sendMessage(content, "user");
      // Only a message the agent took leaves the draft; anything else keeps it to retry.
      if (this.draft.value === content) this.draft.value = "";
      this.say("");
      this.statusChanged(this.isRunning());
    } catch (error) {
      if (error.status === 409) {
        this.say(`Not sent: the agent is busy (${error.message}) Your draft is kept.`, "error");
      } else {
        this.say(`Not sent: ${error.message} Your draft is kept.`, "error");
      }
    } finally {
      this.sending = false;
      this.send.disabled = false;
    }
  }

  async interrupt() {
    this.stop.disabled = true;
    try {
      await interrupt();
      this.say("Interrupt sent.");
    } catch (error) {
      this.toast(`Could not interrupt: ${error.message}`, "error");
    } finally {
      this.stop.disabled = false;
    }
  }

  insertAtCursor(text) {
    const { selectionStart: start, selectionEnd: end, value } = this.draft;
    const before = value.slice(0, start);
    const after = value.slice(end);
    const pad = before && !/\s$/.test(before) ? " " : "";
    const tail = after && !/^\s/.test(after) ? " " : "";
    this.draft.value = before + pad + text + tail + after;
    const at = (before + pad + text + tail).length;
    this.draft.setSelectionRange(at, at);
  }
}
