#!/usr/bin/env node
// Builds the esbuild bundle in dist/ now (bin/ser-pipeline.mjs otherwise builds it on first use).
import { build } from './load.mjs';

await build();
