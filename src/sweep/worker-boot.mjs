// Worker-thread entry: dmftkit is TypeScript run through tsx, and loader hooks
// are per thread, so register tsx here before loading the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
