// Entry of an ingest worker thread: registers tsx in this thread, as bin/*.mjs do for the CLIs,
// then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./decode-worker.ts');
