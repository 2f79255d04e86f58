// Entry of a gradient worker process (workers.ts): registers tsx, as bin/*.mjs do for the CLIs,
// then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./gradient-worker.ts');
