/** Moved to lib/reconcile/settle.ts: the operations page reconciles with the same rule. */
export * from '../lib/reconcile/settle.js';
