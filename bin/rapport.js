#!/usr/bin/env node
// Runs the compiled CLI; in a checkout without a build, the TypeScript sources through tsx.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/index.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  await import('tsx/esm');
  await import(new URL('../src/cli/index.ts', import.meta.url).href);
}
