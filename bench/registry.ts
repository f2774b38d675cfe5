import type { Bench } from './types.ts';

// Benchmarks are loaded lazily so running one does not pay for importing the others.
const BENCHES: Record<string, () => Promise<Bench>> = {
  'hot-key-churn': async () => (await import('./hot-key-churn.ts')).bench,
  'store-merge': async () => (await import('./store-merge.ts')).bench,
  'gossip-converge': async () => (await import('./gossip-converge.ts')).bench,
  'rest-patch': async () => (await import('./rest-patch.ts')).bench,
  'propagate-1': async () => (await import('./propagate-1.ts')).bench,
  'bulk-push-100k': async () => (await import('./bulk-push-100k.ts')).bench,
  'late-joiner': async () => (await import('./late-joiner.ts')).bench,
};

/** Names of every registered benchmark, sorted. */
export function benchNames(): string[] {
  return Object.keys(BENCHES).sort();
}

/** Loads a benchmark by name, or returns undefined when no such benchmark exists. */
export async function loadBench(name: string): Promise<Bench | undefined> {
  const load = Object.hasOwn(BENCHES, name) ? BENCHES[name] : undefined;
  return load === undefined ? undefined : load();
}
