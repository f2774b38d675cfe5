import type { Command } from 'commander';
import type { Io } from './io.ts';
import { examples, objectId, nonNegativeInt, withCommonOptions, type CommonOptions } from './options.ts';
import { context, run } from './run.ts';
import { listView, membersView, objectView, statusView } from './views.ts';

/** `chorus status`, `members`, `get` and `ls`. */
export function registerReadCommands(program: Command, io: Io): void {
  withCommonOptions(program.command('status'))
    .description("show a node: identity, uptime, store size, and its peers' link state and replication lag")
    .addHelpText('after', examples(['$ chorus status', '$ chorus status --url http://192.168.1.20:7946 --json | jq .node.uptimeS'], '0 ok, 1 error, 4 unreachable, 5 unauthorized'))
    .action(
      run(io, 'status', async (o: CommonOptions) => {
        const c = context(io, o);
        const [node, replication] = await Promise.all([c.client.node(), c.client.replication()]);
        if (o.json) c.json({ node, replication });
        else c.lines(statusView(node, replication, c.mode));
      }),
    );

  withCommonOptions(program.command('members'))
    .description('list the members of the mesh as a node sees them (this node included)')
    .addHelpText('after', examples(['$ chorus members', "$ chorus members --json | jq -r '.members[] | select(.status != \"alive\") | .name'"], '0 ok, 1 error, 4 unreachable, 5 unauthorized'))
    .action(
      run(io, 'members', async (o: CommonOptions) => {
        const c = context(io, o);
        const members = await c.client.members();
        if (o.json) c.json({ members });
        else c.lines(membersView(members, c.mode));
      }),
    );

  withCommonOptions(program.command('get'))
    .description('show one object: its fields and their values')
    .argument('<id>', 'object id, e.g. kitchen/light', objectId)
    .addHelpText('after', examples(['$ chorus get kitchen/light', '$ chorus get kitchen/light --json | jq .fields.on'], '0 ok, 3 no such object, 4 unreachable, 5 unauthorized, 1 error'))
    .action(
      run(io, 'get', async (id: string, o: CommonOptions) => {
        const c = context(io, o);
        const obj = await c.client.getObject(id);
        if (o.json) c.json(obj);
        else c.lines(objectView(obj, c.mode));
      }),
    );

  withCommonOptions(program.command('ls'))
    .description('list objects (all of them, page by page), optionally only ids starting with PREFIX')
    .argument('[prefix]', 'id prefix, e.g. kitchen/')
    .option('--limit <n>', 'stop after this many objects', nonNegativeInt('--limit'))
    .addHelpText('after', examples(['$ chorus ls', '$ chorus ls kitchen/', '$ chorus ls --json | jq -r .objects[].id'], '0 ok, 1 error, 4 unreachable, 5 unauthorized'))
    .action(
      run(io, 'ls', async (prefixArg: string | undefined, o: CommonOptions & { limit?: number }) => {
        const prefix = prefixArg ?? '';
        const c = context(io, o);
        const objects = await c.client.listAll(prefix, o.limit ?? Infinity);
        if (o.json) c.json({ objects });
        else if (objects.length === 0 && c.mode.tty) io.err(prefix === '' ? 'no objects' : `no objects with ids starting "${prefix}"`);
        else c.lines(listView(objects, c.mode));
      }),
    );
}
