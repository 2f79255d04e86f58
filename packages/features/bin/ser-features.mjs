#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, resolved from this package (not from the caller's cwd).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
