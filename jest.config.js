// Four suites: unit (pure TS), php (real WordPress + MariaDB through PHP), integration (the sidecar against the real stack), e2e (headless Chromium).
const ts = { '^.+\\.tsx?$': ['ts-jest', { tsconfig: { strict: true, esModuleInterop: true, types: ['node', 'jest'] }, diagnostics: { warnOnly: false } }] };
module.exports = {
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'], transform: ts, testEnvironment: 'node' },
    { displayName: 'php', testMatch: ['<rootDir>/tests/php/**/*.test.ts'], transform: ts, testEnvironment: 'node' },
    { displayName: 'integration', testMatch: ['<rootDir>/tests/integration/**/*.test.ts'], transform: ts, testEnvironment: 'node' },
    { displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'], transform: ts, testEnvironment: 'node' },
  ],
  testTimeout: 180000,
};
