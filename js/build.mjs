// Bundle the front end into ../genwidgets/static (no CDN imports: everything ships in the package).
//
//   frontend.js  the three widgets and the one plotly.js build they share (src/frontend.ts); a page
//                loads it once, whatever number of widgets it shows (see src/loader.ts)
//   loader.js    each widget's `_esm`: asks its kernel for frontend.js once per page (src/loader.ts)
import { build } from "esbuild";

const common = {
  bundle: true,
  format: "esm",
  minify: process.env.GENWIDGETS_JS_DEV ? false : true,
  sourcemap: false,
  target: ["es2020"],
  loader: { ".css": "text" },
  legalComments: "eof",
  logLevel: "info",
};

await build({ ...common, entryPoints: ["src/frontend.ts", "src/loader.ts"], outdir: "../genwidgets/static" });
