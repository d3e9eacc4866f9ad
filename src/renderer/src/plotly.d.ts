// plotly.js-dist-min ships the full Plotly bundle without types; they are plotly.js's.
declare module 'plotly.js-dist-min' {
  import * as Plotly from 'plotly.js';
  export default Plotly;
}
