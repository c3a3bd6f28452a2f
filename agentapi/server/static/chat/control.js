// Control mode: keys go to the agent as raw terminal input, for its dialogs and menus.

import { sendMessage } from "./api.js";

const NAMED = {
  ArrowUp: "\u001b[A",
  ArrowDown: "\u001b[B",
  ArrowRight: "\u001b[C",
  ArrowLeft: "\u001b[D",
  Enter: "\r",
  Escape: "\u001b",
  Tab: "\t",
  Backspace: "\u007f",
  Delete: "\u001b[3~",
  Home: "\u001b[H",
  End: "\u001b[F",
  PageUp: "\u001b[5~",
  PageDown: "\u001b[6~",
};
const LABELS = {
  ArrowUp: "↑",
  ArrowDown: "↓",
  ArrowLeft: "←",
  ArrowRight: "→",
  Escape: "Esc",
  Backspace: "⌫",
  Delete: "Del",
  PageUp: "PgUp",
  PageDown: "PgDn",
  " ": "Space",
};
const BUTTONS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Enter", "Escape", "Tab",
  "Backspace", "Ctrl+C"];
const TRAIL_LENGTH = 16;

// The bytes a key press stands for, and its label; null for keys that send nothing.
export function keyBytes(event) {
  if (event.ctrlKey && !event.altKey && !event.metaKey && /^[a-z]$/i.test(event.key)) {
    const letter = event.key.toLowerCase();
    return { bytes: String.fromCharCode(letter.charCodeAt(0) - 96), label: `Ctrl+${letter.toUpperCase()}` };
  }
  if (event.key === "Tab" && event.shiftKey) return { bytes: "\u001b[Z", label: "Shift+Tab" };
  if (NAMED[event.key]) return { bytes: NAMED[event.key], label: LABELS[event.key] || event.key };
  if (event.key.length === 1 && !event.ctrlKey && !event.metaKey) {
    return { bytes: event.key, label: LABELS[event.key] || event.key };
  }
  return null;
}

export class ControlMode {
  constructor({ capture, keys, trail, toast, leave }) {
    this.capture = capture;
    this.trail = trail;
    this.toast = toast;
    this.queue = Promise.resolve();
    capture.addEventListener("keydown", (event) => {
      if (event.key === "F2") {
        event.preventDefault();
        leave();
        return;
      }
      const key = keyBytes(event);
      if (!key) return;
      event.preventDefault();
      this.press(key);
    });
    for (const name of BUTTONS) {
      const button = document.createElement("button");
      button.type = "button";
      const key = name === "Ctrl+C" ? { bytes: "\u0003", label: "Ctrl+C" } : { bytes: NAMED[name], label: LABELS[name] || name };
      button.textContent = key.label;
      button.setAttribute("aria-label", `Send ${name}`);
      button.addEventListener("click", () => this.press(key));
      keys.append(button);
    }
  }

  // Keys are sent one after another, in the order they were pressed.
  press(key) {
    const chip = document.createElement("li");
    chip.textContent = key.label;
    chip.className = "chip pending";
    this.trail.append(chip);
    while (this.trail.children.length > TRAIL_LENGTH) this.trail.firstElementChild.remove();
    this.queue = this.queue.then(async () => {
      try {
        await sendMessage(key.bytes, "raw");
        chip.className = "chip sent";
      } catch (error) {
        chip.className = "chip failed";
        chip.title = error.message;
        this.toast(`Key ${key.label} not sent: ${error.message}`, "error");
      }
    });
  }
}
