// ESLint for the TypeScript sidecar, the admin app, the tests and the build scripts: the WordPress config that
// `wp-scripts lint-js` uses (with its TypeScript parser and Prettier rule), plus the few overrides below, each of
// which keeps a convention the code already follows consistently instead of churning it. Formatting itself is
// Prettier's (.prettierrc.cjs), reported here as `prettier/prettier`.
const wpScripts = require('@wordpress/scripts/config/eslint.config.cjs');
const wpPlugin = require('@wordpress/eslint-plugin');

module.exports = [
  {
    ignores: ['dist/**', 'plugin/build/**', 'plugin/vendor/**', '.stack/**', 'tests/fixtures/**', 'bench-results/**'],
  },
  {
    // Written by scripts/generate-contract.mjs, whose --check (CI, tests/unit/contract.test.ts) wants them byte for
    // byte as it writes them: style the generator, not its output. .prettierignore lists them too.
    ignores: ['src-worker/contract.ts', 'src-admin/contract.ts'],
  },
  ...wpScripts,
  {
    rules: {
      // One-line guard clauses (`if (!row) return null;`) are the house style; a body on its own line still needs
      // braces. WordPress asks for braces always, which here would add ~320 blocks and nothing else.
      curly: ['error', 'multi-line'],
      // A chain `a ? x : b ? y : z` is how the code picks one of a few values; Prettier lays it out one condition a
      // line, like a switch.
      'no-nested-ternary': 'off',
      // It asks to move a `const` below an early return; here such values are taken there on purpose (a start time
      // before the work it measures, a logger every later branch uses), so moving them would change what they hold.
      '@wordpress/no-unused-vars-before-return': 'off',
    },
  },
  {
    rules: {
      // Doc comments here say what a function is for and why, in a sentence; parameter types live in the TypeScript
      // signatures. A @param line per argument (~270 of them) would repeat the signature.
      'jsdoc/require-param': 'off',
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      // Interfaces declare methods (`run(batch): Promise<void>`), as TypeScript's own lib does. The property form
      // WordPress prefers would also change type checking (strictFunctionTypes checks properties contravariantly).
      '@typescript-eslint/method-signature-style': 'off',
      // A leading underscore marks a parameter an implementation must accept but does not use (`_claimedAt`), or a
      // property taken out of a rest object on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Command-line programs: printing is their job (the sidecar itself logs JSON through pino, and stays checked).
    files: ['scripts/**', 'tests/bench/**'],
    rules: { 'no-console': 'off' },
  },
  // Jest's rules for the TypeScript tests too (WordPress's test config matches only .js test files).
  ...wpPlugin.configs['test-unit'].map((c) => ({ ...c, files: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'] })),
  {
    files: ['tests/**'],
    rules: {
      // Tests print what they measured or what went wrong beside jest's report.
      'no-console': 'off',
      // `@jest-environment jsdom` is a docblock pragma for jest, not a JSDoc tag.
      'jsdoc/check-tag-names': ['error', { definedTags: ['jest-environment'] }],
    },
  },
  {
    files: ['tests/integration/**', 'tests/php/**', 'tests/e2e/**'],
    rules: {
      // Against the real stack a beforeAll asserts what it set up (a site, rows, a started server), so a broken
      // setup fails there and not as a confusing later mismatch.
      'jest/no-standalone-expect': 'off',
      // Some outcomes depend on the machine (root or not) or on which of two allowed paths a race took; each branch
      // asserts its exact outcome.
      'jest/no-conditional-expect': 'off',
    },
  },
];
