// plotly.js evaluated at a widget's first draw, not when its module loads.
//
// anywidget gives each widget model 2 s to load its module and run `initialize`; after that it drops
// every message to the model ("[anywidget] Failed to initialize model."). Evaluating a plotly.js
// build (~1 MB of minified code) at module load put three widgets of a studio past that limit on a
// loaded machine, and a tab stayed empty for good. The builds are bundled as before; esbuild turns
// each `require` of a bundled package into a call of its lazily evaluated wrapper. Each widget's
// module names its own build (one `require` a module), so a bundle holds only the build it draws with.

/** A stand-in for a module that loads it (once) at the first property access. */
export function lazyModule<T extends object>(load: () => T): T {
  let loaded: T | undefined;
  return new Proxy({} as T, {
    get: (_target, key) => Reflect.get((loaded ??= load()), key),
  });
}
