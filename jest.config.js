// Four suites: unit (pure TS), php (real WordPress + MariaDB through PHP), integration (the sidecar against the real stack), e2e (headless Chromium).
const ts = {
  '^.+\\.tsx?$': [
    'ts-jest',
    {
      tsconfig: { strict: true, esModuleInterop: true, jsx: 'react-jsx', types: ['node', 'jest'] },
      diagnostics: { warnOnly: false },
    },
  ],
};
// A few dependencies of @wordpress/components ship only ES modules; compile just those for the jsdom component tests.
const esmDeps = {
  '/node_modules/.+\\.m?js$': ['babel-jest', { presets: [['@babel/preset-env', { targets: { node: 'current' } }]] }],
};
const esmOnly = ['uuid', '@wordpress/theme'];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts?(x)'],
      moduleNameMapper: { '\\.(css|scss)$': '<rootDir>/tests/helpers/style-stub.js' },
      transform: { ...ts, ...esmDeps },
      transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
      moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'json'],
      testEnvironment: 'node',
    },
    { displayName: 'php', testMatch: ['<rootDir>/tests/php/**/*.test.ts'], transform: ts, testEnvironment: 'node' },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/tests/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/tests/helpers/integration-setup.ts'],
      transform: ts,
      testEnvironment: 'node',
    },
    { displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'], transform: ts, testEnvironment: 'node' },
  ],
  testTimeout: 180000,
};
