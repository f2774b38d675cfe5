export * from './changes.ts';
export * from './limits.ts';
export * from './record.ts';
export * from './record-codec.ts';
export * from './store.ts';
export * from './write-op.ts';
