// A tiny element builder. Strings become text nodes, never HTML: class names, tag options and file
// names come from Python and stay text (the guide is the one HTML string, sanitised in Python).

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function setPressed(el: Element, on: boolean): void {
  const v = on ? "true" : "false";
  if (el.getAttribute("aria-pressed") !== v) el.setAttribute("aria-pressed", v);
}

/** Set text only when it changed (status updates run often; unchanged text costs no layout). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setHidden(el: HTMLElement, hidden: boolean): void {
  if (el.hidden !== hidden) el.hidden = hidden;
}

export function setDisabled(el: HTMLButtonElement | HTMLInputElement | HTMLSelectElement, disabled: boolean): void {
  if (el.disabled !== disabled) el.disabled = disabled;
}

/** A "#rrggbb" from Python, or grey: a colour ends up in a style attribute, so check its form. */
export function safeColor(c: string | null | undefined): string {
  return c && /^#[0-9a-fA-F]{6}$/.test(c) ? c : "#9e9e9e";
}
