// Entry of a benchmark worker thread: registers tsx, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./clip-worker.ts');
