/**
 * The model import reads a host's keepalived configuration into (map-host.ts builds it, map-complete.ts completes
 * each instance as keepalived does): one host's instances, scripts, groups and the fate of every node of its tree.
 */
import type { ConfNode } from './keepalived-conf.js';
import { eachConf } from './keepalived-conf.js';
import type { ImportedHost } from './types.js';

export interface InstanceRun {
  /** base priority */
  priority: number;
  /** starts MASTER (wantstate) */
  master: boolean;
  nopreempt: boolean;
  /** seconds */
  preemptDelay: number;
  /** the authentication keepalived uses (null: none) */
  auth: 'PASS' | 'AH' | null;
  /** how keepalived read the instance where the lines say otherwise */
  notes: string[];
}

export type How = 'mapped' | 'kept' | 'dropped';

/** the fate of each node of one host's tree */
export interface Fate {
  how: How;
  text?: string;
  /** a mapped node's note is a warning (how keepalived read it) or names a dropped part of it */
  part?: 'dropped';
}

export class Fates {
  private readonly m = new Map<ConfNode, Fate>();

  constructor(readonly host: string) {}

  /** set a node's fate (and, unless already decided, its descendants' without a note) */
  set(node: ConfNode, how: How, text?: string, part?: 'dropped'): void {
    this.m.set(node, { how, ...(text ? { text } : {}), ...(part ? { part } : {}) });
    if (node.children) eachConf(node.children, (c) => void (this.m.has(c) || this.m.set(c, { how })));
  }

  /** set a block's own fate only (its lines are decided one by one) */
  mark(node: ConfNode, how: How, text?: string): void {
    this.m.set(node, { how, ...(text ? { text } : {}) });
  }

  /** decide a node only if nothing decided it yet */
  default(node: ConfNode, how: How, text?: string): void {
    if (!this.m.has(node)) this.set(node, how, text);
  }

  get(node: ConfNode): Fate | undefined {
    return this.m.get(node);
  }

  at(node: ConfNode): string {
    return `${this.host}:${node.at.file}:${node.at.line}`;
  }
}

export interface VipModel {
  /** canonical (IPv6 in RFC 5952 form) */
  address: string;
  prefix: number;
  explicitPrefix: boolean;
  dev?: string;
  label?: string;
  /** from virtual_ipaddress_excluded (moved with the instance, not advertised) */
  excluded?: boolean;
  node: ConfNode;
}

export interface NotifyModel {
  kind: string;
  node: ConfNode;
}

/** a track_script (or track_file) line: NAME [weight N [reverse]] (the weight overrides the tracked object's) */
export interface TrackModel {
  name: string;
  node: ConfNode;
  weight?: number;
}

export interface InstanceModel {
  name: string;
  node: ConfNode;
  /** `state MASTER` read (BACKUP never clears it; 2.x reads an unknown state as BACKUP) */
  wantMaster: boolean;
  stateNode?: ConfNode;
  interface?: string;
  /**
   * the address family keepalived gives the instance: the first of its unicast_src_ip, unicast_peer,
   * virtual_ipaddress or native_ipv6 lines decides (IPv4 when none does); a VIP of the other family is ignored
   */
  family: 4 | 6;
  /** a line has set the family (the later ones of the other family are ignored) */
  familySet: boolean;
  vrid: number | null;
  /** the priority line's value as keepalived reads it (null: no priority line) */
  priorityRead: number | null;
  priorityNode?: ConfNode;
  advertInt: number;
  advertRaw?: string;
  version?: number;
  authType?: 'PASS' | 'AH';
  authTypeNode?: ConfNode;
  authPass?: string;
  authPassNode?: ConfNode;
  authNode?: ConfNode;
  vips: VipModel[];
  nopreempt: boolean;
  preemptDelay?: number;
  /** the instance's strict_mode (null: vrrp_strict of global_defs decides) */
  strictMode: boolean | null;
  unicastSrc?: string;
  unicastPeers: { address: string; node: ConfNode }[];
  tracks: TrackModel[];
  trackFiles: TrackModel[];
  notifies: NotifyModel[];
  smtpAlert?: ConfNode;
  mcastSrc?: ConfNode;
  /** what keepalived runs once it completes the instance (set by readHost) */
  run: InstanceRun;
}

export interface ScriptModel {
  name: string;
  node: ConfNode;
  scriptNode?: ConfNode;
  interval: number;
  fall: number;
  rise: number;
  timeout?: number;
  weight: number;
  weightNode?: ConfNode;
}

export interface GroupModel {
  name: string;
  node: ConfNode;
  members: string[];
  tracks: TrackModel[];
  notifies: NotifyModel[];
  /** sync_group_tracking_weight (2.x) or global_tracking: keepalived applies its members' tracking weights */
  trackingWeight: boolean;
}

export interface HostModel {
  host: ImportedHost;
  fates: Fates;
  routerId?: string;
  emails: { value: string; node: ConfNode }[];
  emailFrom?: { value: string; node: ConfNode };
  smtpServer?: { value: string; node: ConfNode };
  vrrpVersion?: number;
  strict?: ConfNode;
  /** vrrp_rt_priority N (keepalived's VRRP process in real-time scheduling) */
  rtPriority?: { value: number; node: ConfNode };
  instances: InstanceModel[];
  scripts: Map<string, ScriptModel>;
  /** top-level track_file / vrrp_track_file blocks, by name */
  trackFiles: Map<string, { node: ConfNode; file?: string; weight: number }>;
  groups: GroupModel[];
  /** `include DIR/*...` globs: directories */
  includeDirs: { dir: string; node: ConfNode }[];
  /** global_defs lines kept as a snippet */
  keptGlobals: ConfNode[];
  /** top-level blocks kept as snippets */
  keptRoots: ConfNode[];
  /** lines keepalived stops at (a keyword without the value its handler reads: it exits, the pair cannot run so) */
  fatal: string[];
}
