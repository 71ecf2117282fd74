// ESLint for the whole repository: typescript-eslint's type-checked recommended rules, which catch
// what the compiler lets through (floating promises, unsafe `any`, misused promises, needless
// assertions), and no stylistic rules. See docs/decisions.md, "The compiler and the linter".
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Every `eslint-disable` comment gives its reason on the same line: `-- why`. */
const requireReason = {
  meta: { type: 'problem', messages: { reason: 'say why on the same line: `// eslint-disable-next-line <rule> -- <reason>`' }, schema: [] },
  create(context) {
    return {
      Program() {
        for (const c of context.sourceCode.getAllComments()) {
          if (/^\s*eslint-disable/.test(c.value) && !/\s--\s*\S/.test(c.value)) context.report({ loc: c.loc, messageId: 'reason' });
        }
      },
    };
  },
};
const kelkoo = { rules: { 'eslint-disable-reason': requireReason } };

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'templates/**', 'generators/**/templates/**', 'bench/.work/**', 'bench/tree/**', 'demo-output/**', 'coverage/**', '**/*.d.ts'],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    plugins: { kelkoo },
    rules: {
      'kelkoo/eslint-disable-reason': 'error',
      // an unused argument is a callback's signature; tsc's noUnusedLocals/Parameters cover the rest
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', ignoreRestSiblings: true, varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // const enums name numbers of the formats (TagType, scanner states, character codes): comparing
      // them with the numbers read from bytes is what they are for
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // `void promise` marks a promise deliberately not awaited
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // the code matches control characters on purpose: to escape them or to refuse them
      'no-control-regex': 'off',
      // an async function without await still turns a throw into a rejection, and implements an
      // interface that returns promises (ByteSource, the test fault hooks)
      '@typescript-eslint/require-await': 'off',
      // template literals with numbers are the norm in messages
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.stringMatching, expect.any) are typed `any`, and tests
      // walk parsed JSON and YAML documents key by key, where a wrong key fails the assertion
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // plain JavaScript: scripts, benches, generator shims for yo
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        globalThis: 'readonly',
        performance: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
      },
    },
    plugins: { kelkoo },
    rules: {
      'kelkoo/eslint-disable-reason': 'error',
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
    },
  },
);
