/**
 * What keepalived settles when it completes a vrrp_instance (vrrp_complete_instance() of 2.x vrrp/vrrp.c, and of
 * 1.3.5): the priority of an instance without a priority line (255 for state MASTER: the address owner), the start
 * state vrrp_strict allows, the authentication it ignores, and the nopreempt / preempt_delay it clears. The import
 * maps what keepalived runs, not what the lines say; each difference is a note on the instance.
 */
import { versionAtLeast } from '../keepalived.js';
import type { HostModel, InstanceModel, InstanceRun } from './map-model.js';

export type { InstanceRun };

const OWNER = 255;

/**
 * the VRRP version keepalived runs an instance with: 3 for an IPv6 instance (keepalived's VRRP over IPv6 is
 * VRRPv3), else its own `version`, else global_defs' vrrp_version, else 2
 */
export function vrrpVersionOf(m: HostModel, i: InstanceModel): number {
  return i.family === 6 ? 3 : declaredVersionOf(m, i);
}

/** the version the configuration asks for (an IPv6 instance without one runs VRRPv3 whatever global_defs says) */
export function declaredVersionOf(m: HostModel, i: InstanceModel): number {
  return i.version ?? m.vrrpVersion ?? 2;
}

export function completeInstance(m: HostModel, i: InstanceModel): InstanceRun {
  const strict = i.strictMode ?? !!m.strict;
  const notes: string[] = [];
  const run: InstanceRun = {
    priority: i.priorityRead ?? (i.wantMaster ? OWNER : 100),
    master: i.wantMaster,
    nopreempt: i.nopreempt,
    preemptDelay: i.preemptDelay ?? 0,
    auth: i.authNode ? (i.authType ?? null) : null,
    notes,
  };
  if (i.priorityRead === null && i.wantMaster)
    notes.push('no priority line: keepalived gives state MASTER priority 255 (the address owner)');
  // vrrp_auth_type_handler sets the type only on PASS or AH: a block without either runs without authentication
  if (i.authNode && !i.authType && i.authPass !== undefined)
    notes.push('authentication without auth_type PASS or AH: keepalived runs it without authentication');
  advertRun(m, i, notes);
  if (m.host.keepalivedMajor === 2) complete2x(m, i, run, strict);
  else complete1x(m, i, run, strict);
  return run;
}

function startState(run: InstanceRun): string {
  return run.master ? 'MASTER' : 'BACKUP';
}

/**
 * the advert interval keepalived runs (vrrp_complete_instance, 1.3.5 and 2.x alike): VRRPv2 in whole seconds (half up,
 * at least 1, at most 255), VRRPv3 in units of 10 ms (half up, at least 0.01, at most 40.95). From 2.0.10 the parser
 * reads only 0.01..255 s and keeps the default 1 s for anything else; before, any positive value (atof) is taken.
 * Computed in microseconds as keepalived does (TIMER_HZ), so 0.145 is 0.15, not a float's 0.14.
 */
function advertRun(m: HostModel, i: InstanceModel, notes: string[]): void {
  const a = i.advertInt;
  const us = Math.round(a * 1e6);
  if (versionAtLeast(m.host.keepalivedVersion, '2.0.10') && (us < 10_000 || us > 255e6)) {
    i.advertInt = 1;
    notes.push(`advert_int ${a} is not 0.01..255 s: keepalived ignores it and runs 1 s`);
    return;
  }
  const v3 = vrrpVersionOf(m, i) === 3;
  const unit = v3 ? 10_000 : 1_000_000;
  const max = v3 ? 4095 * 10_000 : 255 * 1_000_000;
  let run = us >= max + unit ? max : us % unit ? us + unit / 2 - ((us + unit / 2) % unit) : us;
  if (run === 0) run = unit;
  if (run === us) return;
  i.advertInt = run / 1e6;
  notes.push(
    us >= max + unit
      ? `advert_int ${a} with VRRPv${v3 ? 3 : 2}: keepalived caps it at ${i.advertInt} s`
      : `advert_int ${a} with VRRPv${v3 ? 3 : 2}: keepalived rounds it to ${v3 ? '10 ms' : 'whole seconds'}: ` +
          `${i.advertInt} s`,
  );
}

function complete2x(m: HostModel, i: InstanceModel, run: InstanceRun, strict: boolean): void {
  const { notes } = run;
  if (!i.stateNode) run.master = run.priority === OWNER;
  else if (strict && run.master !== (run.priority === OWNER)) {
    run.master = run.priority === OWNER;
    notes.push(
      `vrrp_strict: the start state must match being the address owner: keepalived starts it ${startState(run)}`,
    );
  }
  // vrrp_strict: keepalived ignores the authentication (authOf says what ha-setup does with it)
  if (run.auth && strict) run.auth = null;
  else if (run.auth && vrrpVersionOf(m, i) === 3) run.auth = null;
  else if (run.auth && !i.authPass) {
    run.auth = null;
    notes.push('authentication without auth_pass: keepalived ignores it');
  } else if (run.auth === 'AH' && run.master && run.priority !== OWNER) {
    run.master = false;
    notes.push('AH authentication: keepalived starts it BACKUP (state MASTER cleared)');
  }
  if (run.priority === OWNER && run.nopreempt) {
    run.nopreempt = false;
    notes.push('nopreempt with priority 255: keepalived clears nopreempt');
  }
  if (run.master && run.nopreempt) {
    run.nopreempt = false;
    notes.push('nopreempt with state MASTER: keepalived clears nopreempt');
  }
  if (run.master && run.preemptDelay) {
    run.preemptDelay = 0;
    notes.push('preempt_delay with state MASTER: keepalived clears it');
  }
  clearDelay(run, strict);
}

function complete1x(m: HostModel, i: InstanceModel, run: InstanceRun, strict: boolean): void {
  const { notes } = run;
  if (run.auth && vrrpVersionOf(m, i) === 3) run.auth = null;
  else if (run.auth && !i.authPass) {
    run.auth = null;
    notes.push('authentication without auth_pass: keepalived ignores it');
  }
  if (run.priority === OWNER && run.nopreempt) {
    run.nopreempt = false;
    notes.push('nopreempt with priority 255: keepalived clears nopreempt');
  }
  if (strict && run.master && run.priority !== OWNER) {
    run.master = false;
    notes.push('vrrp_strict: keepalived 1.x cannot start it MASTER without being the address owner: BACKUP');
  } else if (run.priority === OWNER && !run.nopreempt) run.master = true;
  if (run.nopreempt && run.master)
    notes.push('nopreempt with state MASTER: keepalived 1.x keeps it and warns it will not work at start-up');
  clearDelay(run, strict);
}

function clearDelay(run: InstanceRun, strict: boolean): void {
  if (run.preemptDelay && strict) {
    run.preemptDelay = 0;
    run.notes.push('preempt_delay with vrrp_strict: keepalived clears it');
  }
  if (run.preemptDelay && run.nopreempt) {
    run.preemptDelay = 0;
    run.notes.push('preempt_delay with nopreempt: keepalived clears it');
  }
}
