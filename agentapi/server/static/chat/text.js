// Terminal text into DOM nodes: links made clickable, wide characters given two cells.

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/g;
const TRAILING = /[.,;:!?'")\]}>]+$/;
// East Asian wide and full-width ranges, and emoji: the terminal drew each in two cells.
const WIDE_RE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]+/gu;

function appendPlain(parent, text) {
  WIDE_RE.lastIndex = 0;
  if (!WIDE_RE.test(text)) {
    parent.append(text);
    return;
  }
  WIDE_RE.lastIndex = 0;
  let at = 0;
  for (const match of text.matchAll(WIDE_RE)) {
    if (match.index > at) parent.append(text.slice(at, match.index));
    for (const ch of match[0]) {
      const cell = document.createElement("span");
      cell.className = "wide";
      cell.textContent = ch;
      parent.append(cell);
    }
    at = match.index + match[0].length;
  }
  if (at < text.length) parent.append(text.slice(at));
}

export function renderText(text, { links = true } = {}) {
  const fragment = document.createDocumentFragment();
  if (!links) {
    appendPlain(fragment, text);
    return fragment;
  }
  let at = 0;
  for (const match of text.matchAll(URL_RE)) {
    const url = match[0].replace(TRAILING, "");
    if (!url.includes("://") || url.endsWith("://")) continue;
    if (match.index > at) appendPlain(fragment, text.slice(at, match.index));
    const link = document.createElement("a");
    link.href = url;
    link.textContent = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    fragment.append(link);
    at = match.index + url.length;
  }
  if (at < text.length) appendPlain(fragment, text.slice(at));
  return fragment;
}
