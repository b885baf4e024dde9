/**
 * SELinux (the guides' preparation step "disable SELinux"): the guides run `setenforce 0` and set SELINUX=disabled
 * in /etc/selinux/config. system.selinux: disable | permissive | leave. Nothing happens on hosts without SELinux.
 */
import { PATHS } from '../paths.js';
import type { Change } from './types.js';
import { currentContent, fileChange, stepPlan, type Step } from './context.js';

export const selinux: Step = {
  id: 'selinux',
  title: 'SELinux',
  plan(ctx) {
    const want = ctx.cfg.system.selinux;
    if (want === 'leave') return stepPlan(this, [], [], ['system.selinux is leave: not touched']);
    const target = want === 'disable' ? 'disabled' : 'permissive';
    const changes: Change[] = [];
    const notes: string[] = [];
    const content = currentContent(ctx.facts, PATHS.selinuxConfig);
    if (content !== null) {
      const lines = content.split('\n');
      const idx = lines.findIndex((l) => /^\s*SELINUX\s*=/.test(l));
      const current = idx >= 0 ? lines[idx].split('=')[1].trim() : null;
      if (current !== target) {
        if (idx >= 0) lines[idx] = `SELINUX=${target}`;
        else lines.splice(lines[lines.length - 1] === '' ? lines.length - 1 : lines.length, 0, `SELINUX=${target}`);
        const mode = ctx.facts.files[PATHS.selinuxConfig]?.mode ?? '644';
        changes.push(...fileChange(ctx, PATHS.selinuxConfig, lines.join('\n'), mode));
      }
    } else notes.push(`${PATHS.selinuxConfig} absent: SELinux not installed`);
    if (ctx.facts.selinux.runtime === 'enforcing') {
      changes.push({
        kind: 'command',
        argv: ['setenforce', '0'],
        describe: 'setenforce 0 (permissive until reboot)',
        undo: ['setenforce', '1'],
        sets: { selinux: { runtime: 'permissive' } },
      });
    }
    return stepPlan(this, changes, [], notes);
  },
};
