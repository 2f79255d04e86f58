// Entry of a gradient worker thread (workers.ts): registers tsx in this thread, as bin/*.mjs do
// for the CLIs, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./gradient-worker.ts');
