// ESLint for the banner (src/ and test/): ESLint's and typescript-eslint's
// recommended rules, no warnings allowed (.ci/test runs it with
// --max-warnings 0). The linters live under .data/npm, where .ci/test
// installs them, not beside this file, so they are required from there.
import { createRequire } from "node:module";

const require = createRequire(import.meta.dirname + "/../.data/npm/");
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");
const { defineConfig } = require("eslint/config");

export default defineConfig(
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      // A caught error the banner deliberately ignores is named e and left unused.
      "@typescript-eslint/no-unused-vars": ["error", { caughtErrors: "none", argsIgnorePattern: "^_" }],
      // `catch (e) { /* old browser */ }` says why it is empty.
      "no-empty": ["error", { allowEmptyCatch: false }],
      "prefer-const": "error",
    },
  },
);
