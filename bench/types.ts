/** A flat set of named measurements for one system (e.g. `{ state_bytes: 61234 }`). */
export type Metrics = Record<string, number>;

/** What a benchmark hands back to the runner; the runner adds the bench name. */
export interface BenchReport {
  /** Measurements per system, e.g. `{ chorus: {...}, yjs: {...} }`. */
  readonly results: Record<string, Metrics>;
  /** Chorus-versus-peer ratios, flat. */
  readonly ratios: Record<string, number>;
  /** Goals for some ratios as `"<= 0.02"` or `">= 1.5"`; ratios without one are informational. */
  readonly goals: Record<string, string>;
  /** Workload sizes, repetitions and layout choices, so a figure can be reproduced. */
  readonly params: Record<string, unknown>;
}

/** Options every benchmark receives from the command line. */
export interface BenchOptions {
  /** Scale the workload down to a smoke test; the figures then mean nothing. */
  readonly quick: boolean;
  /** Progress output; goes to stderr so stdout stays machine-readable. */
  readonly log: (line: string) => void;
}

/** One benchmark: runs Chorus and its peer on the same workload in this process. */
export interface Bench {
  /** One line saying what is measured. */
  readonly description: string;
  run(options: BenchOptions): Promise<BenchReport> | BenchReport;
}
