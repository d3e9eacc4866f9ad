import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'resources/**', 'bench/results/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/renderer/**/*'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // src/shared is pure: it runs in every process, so it may import only itself.
    files: ['src/shared/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'os', 'electron', 'react', 'react-dom'],
              message: 'src/shared must stay pure.',
            },
            {
              group: ['../main/*', '../worker/*', '../renderer/*', '../preload/*', '../cli/*'],
              message: 'src/shared imports nothing from the other processes.',
            },
          ],
        },
      ],
    },
  },
  {
    // The renderer talks only to the contract.
    files: ['src/renderer/**/*'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'electron', 'better-sqlite3'],
              message: 'The renderer runs in a browser sandbox.',
            },
            {
              group: ['**/main/**', '**/worker/**', '**/cli/**', '**/preload/**'],
              message: 'The renderer talks only to src/shared/contract.',
            },
          ],
        },
      ],
    },
  },
);
