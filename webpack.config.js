// Admin build: wp-scripts' config, but bundling every @wordpress package except api-fetch and i18n (and React from core).
// Why: the screen must work on WordPress 6.1 through the newest; core's copies of components/dataviews differ a lot across
// those versions, while React 18+, wp.apiFetch (nonce middleware) and wp.i18n (script translations) are stable.
const path = require('path');
const defaults = require('@wordpress/scripts/config/webpack.config');
const DependencyExtractionWebpackPlugin = require('@wordpress/dependency-extraction-webpack-plugin');

const EXTERNAL = {
  react: 'React',
  'react-dom': 'ReactDOM',
  'react-dom/client': 'ReactDOM',
  'react/jsx-runtime': 'ReactJSXRuntime',
  '@wordpress/api-fetch': ['wp', 'apiFetch'],
  '@wordpress/i18n': ['wp', 'i18n'],
};
const HANDLES = {
  'react/jsx-runtime': 'react-jsx-runtime',
  react: 'react',
  'react-dom': 'react-dom',
  'react-dom/client': 'react-dom',
  '@wordpress/api-fetch': 'wp-api-fetch',
  '@wordpress/i18n': 'wp-i18n',
};

module.exports = {
  ...defaults,
  entry: {
    index: path.resolve(__dirname, 'src-admin/index.tsx'),
    'react-jsx-runtime-shim': path.resolve(__dirname, 'src-admin/jsx-runtime-shim.js'),
  },
  resolve: {
    ...defaults.resolve,
    alias: {
      ...(defaults.resolve && defaults.resolve.alias),
      // The file itself is not in react's exports map; the shim needs exactly React 18's production runtime.
      'sidecar-react18-jsx-runtime': path.resolve(
        __dirname,
        'node_modules/react/cjs/react-jsx-runtime.production.min.js',
      ),
    },
  },
  plugins: [
    ...defaults.plugins.filter((p) => p.constructor.name !== 'DependencyExtractionWebpackPlugin'),
    new DependencyExtractionWebpackPlugin({
      useDefaults: false,
      requestToExternal: (request) => EXTERNAL[request] ?? false,
      requestToHandle: (request) => HANDLES[request],
    }),
  ],
};
