/** Facts gathered from a host, and the changes a step plans from them. Pure data: no SSH here. */
import type { VrrpAdvert } from '../facts/vrrp.js';

export type OsFamily = 'debian' | 'rhel';

export interface FileFact {
  exists: boolean;
  content?: string;
  mode?: string; // octal, e.g. "644"
}

export interface ServiceFact {
  /** systemctl is-active */
  active: string;
  /** systemctl is-enabled */
  enabled: string;
  mainPid: number;
}

export interface InterfaceFact {
  name: string;
  up: boolean;
  multicast: boolean;
  flags: string[];
  mac: string;
  addresses: string[]; // "a.b.c.d/len"
}

export interface Facts {
  /** true for --offline plans: nothing was read from the host */
  assumed?: boolean;
  hostname: string;
  os: { id: string; idLike: string; family: OsFamily | 'unknown'; version: string; pretty: string };
  pkgManager: 'apt' | 'dnf' | 'yum' | null;
  systemd: boolean;
  uid: number;
  sudo: 'root' | 'nopasswd' | 'password' | 'none';
  packages: Record<'keepalived' | 'nginx' | 'rsync' | 'curl', string | null>;
  keepalivedVersion: string | null;
  /** the version the package manager would install, when keepalived is not installed yet */
  keepalivedCandidate: string | null;
  selinux: { runtime: 'enforcing' | 'permissive' | 'disabled' | null; tools: boolean };
  firewalld: {
    installed: boolean;
    active: boolean;
    enabled: boolean;
    services: string[];
    protocols: string[];
    richRules: string[];
  };
  ufw: { installed: boolean; active: boolean };
  interfaces: Record<string, InterfaceFact>;
  files: Record<string, FileFact>;
  services: Record<string, ServiceFact>;
  sysctl: Record<string, string>;
  /** sha256 per relative path of every file under nginx.configDir (symlinks as "link:target") */
  nginxTree: Record<string, string> | null;
  /** for each VIP: the link-layer address that answered ARP for it from this host, if any */
  vipNeighbors: { vip: string; lladdr: string | null }[];
  /** whether each directory ha-setup may create (keepalived.includeDir) exists */
  dirs: Record<string, boolean>;
  /**
   * CAP_SYS_RESOURCE in the root shell's bounding set (null: not read). Without it keepalived cannot set its VRRP
   * process's real-time limit again on a reload, and the kernel kills that process (failover.realtime needs it).
   */
  sysResource: boolean | null;
  /** VRRP adverts heard on the VRRP interface during the preflight (other routers' virtual router ids) */
  vrrpAdverts: VrrpAdvert[];
}

export type Change =
  | {
      kind: 'file';
      path: string;
      content: string;
      mode: string;
      /** current content, null when the file does not exist */
      before: string | null;
      /** command (argv) that validates the written file; {file} is replaced by the temp path */
      validate?: string[];
      /**
       * validate the file where it belongs (a program that reads it only from there, like nginx -t for a conf.d
       * file): install it, validate, and put the old one back (or remove the new one) when validation fails
       */
      validateInPlace?: boolean;
      /** secrets inside: never print the content unredacted */
      sensitive?: boolean;
    }
  /** a file ha-setup wrote earlier and the answers no longer ask for: backed up, removed, validated */
  | { kind: 'remove-file'; path: string; before: string; validate?: string[] }
  | { kind: 'command'; argv: string[]; describe: string; undo?: string[] }
  | { kind: 'package'; manager: 'apt' | 'dnf' | 'yum'; names: string[] }
  /** a package file from the controller (packages.*), pushed over SSH and installed with the host's manager */
  | { kind: 'package-file'; manager: 'apt' | 'dnf' | 'yum'; name: string; localPath: string; file: string }
  | { kind: 'service'; name: string; action: 'enable' | 'start' | 'restart' | 'reload-or-restart' | 'daemon-reload' }
  | { kind: 'nginx-sync'; from: string; configDir: string; added: string[]; changed: string[]; removed: string[] }
  | { kind: 'verify'; describe: string; argv: string[] };

export interface StepPlan {
  id: string;
  title: string;
  changes: Change[];
  /** services to restart / reload after this step's changes (only when the step changed something) */
  handlers: Change[];
  notes: string[];
  /** when set the step cannot run: a precondition problem (collected before anything changes) */
  refuse?: string;
}

export interface NodePlan {
  node: string;
  host: string;
  role: string;
  facts: Facts;
  steps: StepPlan[];
}

export function changeCount(p: NodePlan): number {
  return p.steps.reduce((n, s) => n + s.changes.filter((c) => c.kind !== 'verify').length, 0);
}
