import { readFileSync } from 'node:fs';

// CPU time of processes, to show where a throughput run spends the machine's cores.

const TICKS_PER_S = 100; // USER_HZ on Linux (getconf CLK_TCK)

/** User + system CPU seconds a process has used so far (Linux /proc), or NaN when unreadable. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds of this process so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** CPU seconds used between construction and `read()`, per named process. */
export class CpuMeter {
  private readonly start: Record<string, number>;

  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {
    this.start = this.now();
  }

  private now(): Record<string, number> {
    const out: Record<string, number> = { bench: ownCpuSeconds() };
    for (const [name, pid] of Object.entries(this.pids)) out[name] = cpuSecondsOf(pid);
    return out;
  }

  /** Seconds of CPU per process since construction; `bench` is this process. */
  read(): Record<string, number> {
    const end = this.now();
    return Object.fromEntries(Object.entries(end).map(([k, v]) => [k, v - (this.start[k] as number)]));
  }
}
