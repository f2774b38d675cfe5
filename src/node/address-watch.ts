import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { ChorusError, ErrorCode } from '../core/errors.ts';

/** What `os.networkInterfaces()` returns: interface name → its addresses. */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Decides whether one interface address counts as one of this node's addresses. */
export type AddressFilter = (info: NetworkInterfaceInfo, interfaceName: string) => boolean;

/** Options of an AddressWatch. */
export interface AddressWatchOptions {
  /** Time between two checks (default 5000: an IP change is noticed within seconds, at the cost of one syscall). */
  readonly intervalMs?: number;
  /** Reads the interface table (default os.networkInterfaces; tests pass a fake). */
  readonly read?: () => InterfaceTable;
  /** Also watch global IPv6 addresses (default false: the mesh advertises IPv4). Ignored when `filter` is given. */
  readonly ipv6?: boolean;
  /** Which addresses count (default: non-internal IPv4, plus non-link-local IPv6 when `ipv6`). */
  readonly filter?: AddressFilter;
  /** Called once per change, with the new and the previous address lists (sorted). */
  readonly onChange: (addresses: string[], previous: string[]) => void;
  /** Told when a read or onChange fails during a timed check. */
  readonly onError?: (err: unknown) => void;
}

/** The default filter: non-internal IPv4 and, when `ipv6`, non-internal IPv6 outside fe80::/10. */
export function defaultAddressFilter(ipv6: boolean): AddressFilter {
  return (info) => {
    if (info.internal) return false;
    const family = info.family as unknown; // Node 18.0–18.3 reported 4 and 6
    if (family === 'IPv4' || family === 4) return true;
    if (!ipv6 || !(family === 'IPv6' || family === 6)) return false;
    return !isLinkLocalIPv6(info.address);
  };
}

/** True for fe80::/10, which needs a zone (interface) to be reached and so is useless to peers. */
export function isLinkLocalIPv6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

/** The addresses of `table` that pass `filter`, deduplicated and sorted, so a reordering is not a change. */
export function selectAddresses(table: InterfaceTable, filter: AddressFilter): string[] {
  const out = new Set<string>();
  for (const [name, infos] of Object.entries(table)) for (const info of infos ?? []) if (filter(info, name)) out.add(info.address);
  return [...out].sort();
}

/** True when two sorted lists hold the same addresses. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Notices when this machine's addresses change (seed 004's IP change detection) so the node
 * can re-advertise itself. `check()` does the work; the timer of start() only calls it.
 * The first check records the baseline and reports nothing; later ones report each change once.
 */
export class AddressWatch {
  readonly #intervalMs: number;
  readonly #read: () => InterfaceTable;
  readonly #filter: AddressFilter;
  readonly #onChange: (addresses: string[], previous: string[]) => void;
  readonly #onError: ((err: unknown) => void) | undefined;
  #current: string[] | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AddressWatchOptions) {
    this.#intervalMs = options.intervalMs ?? 5000;
    if (!Number.isInteger(this.#intervalMs) || this.#intervalMs < 1) throw new ChorusError(ErrorCode.InvalidConfig, `AddressWatch intervalMs must be a positive integer, got ${this.#intervalMs}`);
    this.#read = options.read ?? networkInterfaces;
    this.#filter = options.filter ?? defaultAddressFilter(options.ipv6 ?? false);
    this.#onChange = options.onChange;
    this.#onError = options.onError;
  }

  /** Reads the interfaces now; calls onChange and returns true when the address set changed. A failed read changes nothing. */
  check(): boolean {
    const next = selectAddresses(this.#read(), this.#filter);
    const previous = this.#current;
    this.#current = next;
    if (previous === undefined || sameList(previous, next)) return false;
    this.#onChange([...next], [...previous]);
    return true;
  }

  /** The addresses seen by the last check ([] before the first). */
  current(): string[] {
    return [...(this.#current ?? [])];
  }

  /** Checks at once (the baseline), then every intervalMs; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#safeCheck();
    this.#timer = setInterval(() => this.#safeCheck(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer; check() still works by hand. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #safeCheck(): void {
    try {
      this.check();
    } catch (err) {
      this.#onError?.(err);
    }
  }
}
