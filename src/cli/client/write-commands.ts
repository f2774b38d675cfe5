import type { Command } from 'commander';
import { parseAssignments } from './assignments.ts';
import { CliError, ExitCode } from './exit-codes.ts';
import type { Io } from './io.ts';
import type { WriteConcern } from './node-client.ts';
import { examples, objectId, nonNegativeInt, replicas, withCommonOptions, type CommonOptions } from './options.ts';
import { context, run } from './run.ts';
import { objectView } from './views.ts';

/** Options of a write: the write concern. */
interface WriteOptions extends CommonOptions {
  readonly replicas?: number | 'all';
  readonly timeoutMs?: number;
}

function withWriteConcern(cmd: Command): Command {
  return cmd
    .option('--replicas <n|all>', 'wait until N peers (or all alive ones) have stored the write', replicas)
    .option('--timeout-ms <ms>', 'how long to wait for --replicas (the node answers 504 after it; the local write stands)', nonNegativeInt('--timeout-ms'));
}

function concern(o: WriteOptions): WriteConcern {
  if (o.timeoutMs !== undefined && o.replicas === undefined) throw new CliError(ExitCode.Usage, '--timeout-ms needs --replicas');
  return { ...(o.replicas === undefined ? {} : { replicas: o.replicas }), ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }) };
}

/** `chorus set` and `rm`. */
export function registerWriteCommands(program: Command, io: Io): void {
  withWriteConcern(withCommonOptions(program.command('set')))
    .description('set fields of an object (created if absent); VALUE is JSON when it parses as JSON, else a string')
    .argument('<id>', 'object id, e.g. kitchen/light', objectId)
    .argument('[pairs...]', 'FIELD=VALUE: on=true, level=80, location={"x":1}, name=kitchen; FIELD= sets ""')
    .option('--replace', 'replace the whole object with these fields (PUT) instead of merging (PATCH)')
    .addHelpText(
      'after',
      examples(['$ chorus set kitchen/light on=true level=80', "$ chorus set kitchen/light 'location={\"x\":1,\"y\":2}' name=kitchen", '$ chorus set hall/sensor temp=21.5 --replace', '$ chorus set kitchen/light on=false --replicas all --timeout-ms 2000'], '0 ok, 2 bad FIELD=VALUE or invalid input, 1 error (504: --replicas not met in time), 4 unreachable, 5 unauthorized'),
    )
    .action(
      run(io, 'set', async (id: string, pairs: string[], o: WriteOptions & { replace?: boolean }) => {
        if (pairs.length === 0 && !o.replace) throw new CliError(ExitCode.Usage, 'give at least one FIELD=VALUE (or --replace to empty the object)');
        const fields = parseAssignments(pairs);
        const c = context(io, o);
        const written = await c.client.writeObject(id, fields, o.replace === true, concern(o));
        if (o.json) c.json(written);
        else c.lines(objectView(written, c.mode));
      }),
    );

  withWriteConcern(withCommonOptions(program.command('rm')))
    .description('delete an object (every field) across the mesh')
    .argument('<id>', 'object id', objectId)
    .addHelpText('after', examples(['$ chorus rm kitchen/light', '$ chorus rm kitchen/light --replicas 1 --timeout-ms 1000 --json'], '0 ok, 3 no such object, 1 error, 4 unreachable, 5 unauthorized'))
    .action(
      run(io, 'rm', async (id: string, o: WriteOptions) => {
        const c = context(io, o);
        const result = await c.client.deleteObject(id, concern(o));
        if (o.json) c.json(result);
        else io.out(`removed ${id}`);
      }),
    );
}
