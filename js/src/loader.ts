// The `_esm` every genwidgets widget sends on open: a few hundred bytes that load the front end once per page.
//
// The front end (plotly.js and the three widgets, ~1.4 MB: see frontend.ts) used to travel as each
// widget's `_esm`, so a studio sent and evaluated it once per widget. Now the first widget of a page
// asks its Python side for it (`{op: "library"}`, answered with the module as one binary buffer),
// imports it, and keeps the promise on `globalThis` under the bundle's hash: every later widget of the
// page, from any kernel, reuses it. Python writes the widget's kind and the bundle's hash into this
// file's placeholders (genwidgets/widgets/bundle.py).
//
// anywidget gives `initialize` 2 s, so it only starts the load; the widget's own `initialize` runs
// when the library is there (before any `render`: promise callbacks run in the order they were added).

import type { AnyModel, Buffers } from "./lib/anywidget";
import type { FrontEnd, Widget } from "./frontend";

const KIND = "__GENWIDGETS_KIND__";
const HASH = "__GENWIDGETS_HASH__";
const CACHE_KEY = "__genwidgets_frontend__";
/** A page whose kernel does not answer within this many ms shows why, and the next widget asks again. */
const TIMEOUT_MS = 120_000;

type Cache = Record<string, Promise<FrontEnd> | undefined>;

function requestLibrary(model: AnyModel): Promise<FrontEnd> {
  return new Promise<FrontEnd>((resolve, reject) => {
    const timer = setTimeout(() => {
      model.off("msg:custom", onMessage);
      reject(new Error(`genwidgets: the kernel did not send the front end within ${TIMEOUT_MS / 1000} s; `
        + "is it running? Re-run the cell to try again."));
    }, TIMEOUT_MS);
    const onMessage = (content: { op?: string }, buffers: Buffers) => {
      if (content?.op !== "library") return;
      clearTimeout(timer);
      model.off("msg:custom", onMessage);
      checked(buffers[0]).then((code) => {
        const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
        // The one place the front end runs code from the kernel: the module whose hash this loader names, as
        // anywidget runs each widget's `_esm` (tests/test_security.py allows exactly this import).
        return import(/* webpackIgnore: true */ url).finally(() => URL.revokeObjectURL(url));
      }).then((module: { default: FrontEnd }) => resolve(module.default), reject);
    };
    model.on("msg:custom", onMessage);
    model.send({ op: "library", hash: HASH });
  });
}

/** The module's bytes, once their SHA-256 starts with HASH (where the page can hash: https or localhost). */
async function checked(buffer: DataView | ArrayBuffer): Promise<BlobPart> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) {
    const digest = new Uint8Array(await subtle.digest("SHA-256", buffer as BufferSource));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    if (!hex.startsWith(HASH)) throw new Error(`genwidgets: the front end received does not match this widget (${HASH})`);
  }
  return buffer as BlobPart;
}

/** The page's front end: loaded by the first widget that asks, shared by all. */
function library(model: AnyModel): Promise<FrontEnd> {
  const cache: Cache = ((globalThis as Record<string, unknown>)[CACHE_KEY] ??= {}) as Cache;
  let loading = cache[HASH];
  if (loading === undefined) {
    loading = cache[HASH] = requestLibrary(model);
    loading.catch(() => { if (cache[HASH] === loading) delete cache[HASH]; });
  }
  return loading;
}

function widget(frontEnd: FrontEnd): Widget {
  return frontEnd[KIND as keyof FrontEnd];
}

function initialize({ model }: { model: AnyModel }): () => void {
  let cleanup: (() => void) | undefined;
  let closed = false;
  library(model).then((frontEnd) => {
    if (!closed) cleanup = widget(frontEnd).initialize({ model });
  }, () => undefined); // render shows the error
  return () => {
    closed = true;
    cleanup?.();
  };
}

async function render({ model, el }: { model: AnyModel; el: HTMLElement }): Promise<() => void> {
  const waiting = document.createElement("div");
  waiting.className = "gw-loading";
  waiting.textContent = "genwidgets: loading the widget…";
  waiting.style.cssText = "font: 12px system-ui, sans-serif; color: var(--jp-ui-font-color2, #888); padding: 6px;";
  el.appendChild(waiting);
  try {
    const frontEnd = await library(model);
    waiting.remove();
    return widget(frontEnd).render({ model, el });
  } catch (error) {
    waiting.textContent = String((error as Error)?.message ?? error);
    return () => undefined;
  }
}

export default { initialize, render };
