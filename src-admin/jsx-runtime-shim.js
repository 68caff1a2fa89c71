// WordPress < 6.6 has no 'react-jsx-runtime' script. This builds one from React 18's runtime (same element format
// as core's React 18); on newer WordPress core's own handle is used and this file is never loaded.
// eslint-disable-next-line import/no-unresolved -- a webpack alias (webpack.config.js), not a package
import * as runtime from 'sidecar-react18-jsx-runtime';

window.ReactJSXRuntime = window.ReactJSXRuntime || runtime;
