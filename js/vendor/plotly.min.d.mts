// Types of plotly.min.mjs: the calls genwidgets makes are typed in js/src/lib/plotly.ts.
declare const Plotly: unknown;
export default Plotly;
