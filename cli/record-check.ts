/** Moved to lib/operations/check.ts, where the operations page reads records too. */
export * from '../lib/operations/check.js';
