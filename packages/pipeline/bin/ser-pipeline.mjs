#!/usr/bin/env node
// Runs the TypeScript CLI: from a fresh esbuild bundle when possible (fast), else through tsx.
import { loadEngine } from './load.mjs';

await loadEngine('cli');
