// Prettier (run through ESLint's prettier/prettier rule: `npm run lint`, `npm run lint:fix`). WordPress's shared
// config uses tabs, 80 columns and spaces inside parentheses; this code base was written with two spaces, single
// quotes and long lines, and its comments are wrapped at 120, so these settings keep that style instead of
// rewriting every line. The rest are Prettier's and WordPress's common defaults.
module.exports = {
  useTabs: false,
  tabWidth: 2,
  printWidth: 120,
  singleQuote: true,
  trailingComma: 'all',
  bracketSpacing: true,
  bracketSameLine: false,
  semi: true,
  arrowParens: 'always',
  // wp-prettier's own option (the `prettier` that @wordpress/scripts installs is wp-prettier).
  parenSpacing: false,
};
