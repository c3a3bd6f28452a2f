// Uploads from the button, drag-and-drop and paste: each path lands in the draft as @"PATH".

import { upload, MAX_UPLOAD_BYTES, formatBytes } from "./api.js";

export class Uploads {
  constructor({ button, input, dropZone, overlay, draft, composer, toast }) {
    this.composer = composer;
    this.toast = toast;
    button.addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.send([...input.files]);
      input.value = "";
    });
    draft.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files || [])];
      if (files.length === 0) return;
      event.preventDefault();
      this.send(files);
    });
    let depth = 0;
    const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    dropZone.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      depth += 1;
      overlay.hidden = false;
    });
    dropZone.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) overlay.hidden = true;
    });
    dropZone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    dropZone.addEventListener("drop", (event) => {
      depth = 0;
      overlay.hidden = true;
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.send([...event.dataTransfer.files]);
    });
  }

  async send(files) {
    for (const file of files) {
      if (file.size > MAX_UPLOAD_BYTES) {
        this.toast(
          `${file.name} is ${formatBytes(file.size)}: larger than the 10 MiB upload limit.`,
          "error",
        );
        continue;
      }
      this.composer.say(`Uploading ${file.name}…`);
      try {
        const path = await upload(file);
        this.composer.insertAtCursor(`@"${path}"`);
        this.composer.say(`Uploaded ${file.name}.`);
      } catch (error) {
        this.composer.say("");
        this.toast(`Upload of ${file.name} failed: ${error.message}`, "error");
      }
    }
    this.composer.draft.focus();
  }
}
