// Builds ../vendor/plotly.min.mjs: plotly.js's core with only the traces genwidgets draws, as one ES module.
//
//   cd js/plotly && npm ci && npm run build     (needs the npm registry; ~170 MB of sources)
//
// The widgets draw scatter (curves, points), scattergl (the explorer's 10k-point map) and heatmap (the
// discriminator's map). plotly.js's own dist builds each carry a different set (basic, cartesian, gl2d):
// this one registers exactly the three on plotly's core, strips the attribute descriptions that only
// plotly's schema docs read (as plotly's partial bundles do), and leaves out maplibre-gl's stylesheet,
// which plotly's registry inlines for map subplots that genwidgets never makes. The result is
// committed, so that building the widgets (js/build.mjs, run by scripts/setup.sh) needs neither these
// sources nor the network.
const esbuild = require("esbuild");
const fs = require("node:fs");
const path = require("node:path");
const { glsl } = require("esbuild-plugin-glsl");
const InlineCSSPlugin = require("esbuild-plugin-inline-css");
const { environmentPlugin } = require("esbuild-plugin-environment");

const OUT = path.join(__dirname, "..", "vendor", "plotly.min.mjs");
const VERSION = require("plotly.js/package.json").version;
const TRACES = ["scatter", "scattergl", "heatmap"];

/** Drop attribute descriptions (one-line strings and `[...].join(' ')` arrays) from plotly's sources. */
const stripDescriptions = {
  name: "strip-attribute-descriptions",
  setup(build) {
    build.onLoad({ filter: /plotly\.js[\\/]src[\\/].*\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, "utf8");
      const contents = source
        .replace(/\s*description: '.*',?/g, "")
        .replace(/\s*description: \[[\s\S]*?\]\.join\(\s*'[^']*'\s*\),?/g, "")
        .replace(/\s*(requiredOpts|otherOpts): \[[\s\S]*?\],?/g, "")
        .replace(/\s*hrName: '.*',?/g, "");
      return { contents, loader: "js" };
    });
  },
};

/** maplibre-gl's stylesheet (83 kB) is for map subplots: resolve it to nothing. */
const noMapStyles = {
  name: "no-map-styles",
  setup(build) {
    build.onResolve({ filter: /^maplibre-gl\/dist\/maplibre-gl\.css$/ }, () => ({ path: "empty", namespace: "empty" }));
    build.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "", loader: "js" }));
  },
};

const entry = [
  'import Plotly from "plotly.js/lib/core";',
  ...TRACES.map((t) => `import ${t} from "plotly.js/lib/${t}";`),
  `Plotly.register([${TRACES.join(", ")}]);`,
  "export default Plotly;",
].join("\n");

esbuild.build({
  stdin: { contents: entry, resolveDir: __dirname, sourcefile: "plotly-genwidgets.js" },
  bundle: true,
  format: "esm",
  minify: true,
  outfile: OUT,
  target: "es2020",
  legalComments: "eof",
  banner: { js: `/* plotly.js ${VERSION} (MIT licence, https://github.com/plotly/plotly.js): core + ${TRACES.join(", ")}; built by js/plotly/build.cjs */` },
  plugins: [stripDescriptions, noMapStyles, InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
  alias: { regl: "@plotly/regl", stream: "stream-browserify" },
  define: { global: "window", "define.amd": "false" },
  logLevel: "warning",
}).then(() => console.log(`${OUT}: ${fs.statSync(OUT).size} bytes`));
