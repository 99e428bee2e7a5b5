// Kept for existing importers: the local reconciliation step lives in local-reconciliation.ts.
export * from './local-reconciliation.ts';
