import { type Command, Option } from 'commander';
import type { LiveEventKind } from '../../api/events.ts';
import type { Io } from './io.ts';
import { examples, kinds, nonNegativeInt, withCommonOptions, type CommonOptions } from './options.ts';
import { run } from './run.ts';
import { resolveTarget } from './target.ts';
import { eventLine, resetLine } from './views.ts';
import { watchEvents } from './watch.ts';

/** `chorus watch`. */
export function registerWatchCommand(program: Command, io: Io): void {
  withCommonOptions(program.command('watch'), 'one JSON line per event (and per reset)')
    .description('stream live events (object changes, member status) until Ctrl-C; reconnects and resumes by itself')
    .argument('[prefix]', 'only objects whose id starts with this')
    .option('--since <seq>', 'first replay the events after this sequence number (as far as the node remembers)', nonNegativeInt('--since'))
    .addOption(new Option('--kinds <list>', 'event kinds, comma-separated: object, member, binding').argParser(kinds).default(['object', 'member'], 'object,member'))
    .addHelpText(
      'after',
      `${examples(['$ chorus watch kitchen/', '$ chorus watch --json | jq -c \'select(.kind == "object")\'', '$ chorus watch --since 1200 --kinds object'], '0 stopped, 4 first connection failed, 5 unauthorized, 2 rejected query')}
With --json, each event is one JSON line; a {"kind":"reset"} line means events were lost (history too short, or the node restarted).`,
    )
    .action(
      run(io, 'watch', async (prefix: string | undefined, o: CommonOptions & { since?: number; kinds: LiveEventKind[] }) => {
        resolveTarget(o, io.env); // a usage error (or no node.json) fails now, before watching
        const signal = io.interrupted();
        return watchEvents({
          target: () => resolveTarget(o, io.env),
          prefix: prefix ?? '',
          kinds: o.kinds,
          ...(o.since === undefined ? {} : { since: o.since }),
          signal,
          onEvent: (e) => io.out(o.json ? JSON.stringify(e) : eventLine(e)),
          onReset: (r) => (o.json ? io.out(JSON.stringify(r)) : io.err(resetLine(r))),
          notice: (text) => io.err(`chorus watch: ${text}`),
        });
      }),
    );
}
