// The Terminal tab: the agent's live screen, streamed only while the tab is shown.

import { ReconnectingStream } from "./stream.js";
import { renderText } from "./text.js";

export class TerminalView {
  constructor(screen) {
    this.screen = screen;
    this.stream = new ReconnectingStream("internal/screen", {
      screen: (body) => this.screen.replaceChildren(renderText(body.screen, { links: false })),
    });
  }

  show() {
    this.stream.start();
  }

  hide() {
    this.stream.stop();
  }
}
