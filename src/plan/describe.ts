/** One line per action, the same words in the plan (--dry-run), the progress output and the run's report. */
import type { Action, RestoreAction } from './types.js';

const mgr = (m: string) => (m === 'apt' ? 'apt-get' : m);
const targets = (ts: { name: string; vips: string[] }[]) => ts.map((t) => `${t.name} (${t.vips.join(' ')})`).join(', ');

/** how a written file is checked before it counts: keepalived -t, nginx -t, or a real start (keepalived 1.x) */
function validation(v: string[] | undefined): string {
  if (!v) return '';
  if (v[0] === 'bash') return ', validated by a real keepalived start in a private namespace (1.x has no -t)';
  return `, validated with ${v[0]} -t`;
}

export function describeAction(c: Action): string {
  switch (c.kind) {
    case 'file': {
      const verb = c.before === null ? 'create' : c.before === 'unknown' ? 'write' : 'update';
      return `${verb} ${c.path} (mode ${c.mode})${validation(c.validate)}`;
    }
    case 'remove-file':
      return `remove ${c.path}${validation(c.validate)}`;
    case 'command':
      return `run: ${c.argv.join(' ')}  (${c.describe})`;
    case 'package':
      if (c.upgrade) return `upgrade ${c.names.join(' ')} ${c.upgrade.from} -> ${c.upgrade.to} with ${mgr(c.manager)}`;
      return `install ${c.names.join(' ')} with ${mgr(c.manager)}${c.expectVersion ? ` (${c.expectVersion})` : ''}`;
    case 'package-file':
      return `copy ${c.file} to the host and install it with ${mgr(c.manager)}`;
    case 'service':
      return c.action === 'daemon-reload' ? 'systemctl daemon-reload' : `systemctl ${c.action} ${c.name}`;
    case 'nginx-sync': {
      const n = c.added.length + c.changed.length + c.removed.length;
      return (
        `sync ${c.configDir}/ from ${c.from} (rsync -a --delete` +
        `${n ? `: ${c.added.length} added, ${c.changed.length} changed, ${c.removed.length} removed` : ''}` +
        '), nginx -t, reload'
      );
    }
    case 'verify':
      return `check: ${c.describe}`;
    case 'handover':
      return `hand ${targets(c.targets)} over to a ready node without a gap, stopping keepalived here`;
    case 'return':
      return (
        'keepalived running again here, a ready node' +
        (c.targets.length ? `; then ${targets(c.targets)} back here (preempt)` : '') +
        (c.release.length ? `; ${targets(c.release)} stay where they are` : '') +
        (c.moveBack?.length
          ? `; ${targets(c.moveBack)} moved back here (held here before; ` +
            'they do not return by themselves: nopreempt or equal priorities): handed over by their holder'
          : '')
      );
    case 'await-ready':
      return 'wait until keepalived here is a ready backup before the next node';
    case 'flag':
      return `${c.on ? 'set' : 'clear'} the ${c.name} flag (${flagMeaning(c.name, c.on)})`;
    case 'switch':
      return (
        `move ${targets([c.target])} to ${c.to} without a gap: the handover flag here (FAULT for ${c.target.name}) ` +
        `for the moment of the move${c.demote ? `, demoted for ${c.target.name} as it hands over` : ''}, ` +
        `cleared after; then ${c.to} must hold them`
      );
    case 'drain':
      return (
        `set the maintenance flag (FAULT for every instance until maintenance off): ${targets(c.targets)} ` +
        `handed over to ${c.to ?? 'a ready node'} without a gap`
      );
    default:
      return describeRestore(c);
  }
}

/** what a state flag does to keepalived's election on the node */
function flagMeaning(name: string, on: boolean): string {
  const [kind, target] = name.split(/\.(.*)/);
  if (kind === 'maintenance') return on ? 'FAULT for every instance' : 'out of maintenance';
  if (kind === 'demote') return on ? `a lower priority for ${target}` : `its own priority for ${target}`;
  return on ? `FAULT for ${target}` : `no FAULT for ${target}`;
}

function describeRestore(c: RestoreAction): string {
  switch (c.kind) {
    case 'put-back':
      return `put ${c.path}${c.dir ? '/' : ''} back from the run's backup`;
    case 'remove-new':
      return `remove ${c.path} (it did not exist before the run)`;
    case 'undo-command':
      return `undo: ${c.argv.join(' ')}`;
    case 'flag-back':
      return `put the ${c.name} flag back to ${c.value}`;
    case 'left-installed':
      return `leave ${c.names.join(' ')} installed (a rollback removes no package)`;
    case 'unit':
      return `systemctl ${c.action}${c.action === 'daemon-reload' ? '' : ` ${c.name}`}${c.why ? ` (${c.why})` : ''}`;
    case 'rolled-back':
      return `mark the run ${c.runDir.slice(c.runDir.lastIndexOf('/') + 1)} rolled back`;
  }
}
