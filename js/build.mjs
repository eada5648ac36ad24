// Bundle one ES module per widget into ../genwidgets/static (no CDN imports: everything ships in the bundle).
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const entryPoints = readdirSync("src")
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => `src/${f}`);

await build({
  entryPoints,
  bundle: true,
  format: "esm",
  outdir: "../genwidgets/static",
  minify: process.env.GENWIDGETS_JS_DEV ? false : true,
  sourcemap: false,
  target: ["es2020"],
  loader: { ".css": "text" },
  logLevel: "info",
});
