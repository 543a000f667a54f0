// ESLint 9 flat config: typescript-eslint's type-checked recommended rules on every TypeScript file
// of the tree (src, test, scripts, sdk), with the types of tsconfig.json. Formatting is Prettier's.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'sdk/dist/', 'coverage/', '.tap/', '.data/', 'bench/results/', 'sdk/src/schema.d.ts']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // tap awaits the subtests a test starts (t.test returns PromiseWithSubtest): nothing floats.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] }],
      // A leading underscore marks what is left unused on purpose (a field left out of a rest copy, a placeholder).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['src/app.ts', 'src/http/**/*.ts'],
    rules: {
      // Fastify takes plugins, hooks and handlers as async functions, awaiting or not: the promise is how it knows they are done.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Answers are parsed JSON (`res.json()` is any), checked by the assertions and against openapi/openapi.json by the helpers' contract check.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // tap ends a subtest when its callback's promise settles; a synchronous callback would need t.end() instead.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { URL: 'readonly' } },
  },
);
