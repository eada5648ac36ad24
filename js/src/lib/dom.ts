// Small DOM helpers shared by the widgets' render functions.

/** Create `<tag class="className">`, appended to `parent` when given. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, className: string, parent?: HTMLElement,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  parent?.appendChild(node);
  return node;
}

/** A random id for one front end (keys its hello/reset exchange with Python). */
export function nonce(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
