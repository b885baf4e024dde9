/**
 * ssh_config as OpenSSH reads it: the real `ssh -G -F FILE` (openssh-client is installed where the tests run), on
 * files with Include, Match host, Host patterns with negation and ProxyJump; and the parser used where ssh is not.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PreconditionError } from '../../src/errors.js';
import { parseSshConfig, resolveSshConfig } from '../../src/ssh/ssh-config.js';

const dir = mkdtempSync(join(tmpdir(), 'sshcfg-'));
const home = join(dir, 'home');
const cfg = join(dir, 'config');
const me = userInfo().username;
const PATH = process.env.PATH;

beforeAll(() => {
  // ~ in the identity files ssh -G prints is expanded in $HOME, as every path of the answers
  vi.stubEnv('HOME', home);
  mkdirSync(join(dir, 'config.d'));
  writeFileSync(
    join(dir, 'config.d', 'lab.conf'),
    'Host lb01\n  HostName 10.0.0.11\n  User admin\n  Port 2222\n  IdentityFile ~/.ssh/lab_key\n' +
      `Host lb02\n  HostName 10.0.0.12\n  UserKnownHostsFile ${dir}/known_lab\n  HostKeyAlias lb02.lab\n`,
  );
  writeFileSync(
    cfg,
    `Include ${dir}/config.d/*.conf\n` +
      'Host lb* !lb03\n  ProxyJump jump@bastion:2200\n  User first-wins-not\n' +
      'Match host 10.0.0.*\n  IdentityFile ~/.ssh/%h_%r\n  IdentityFile %d/.ssh/net_key\n' +
      `Host mine\n  User ${me}\n` +
      'Host *\n  Port 22\n',
  );
});
afterAll(() => {
  vi.unstubAllEnvs();
});

describe('ssh_config through ssh -G', () => {
  it('a host defined only in an included file: its HostName, User, Port and IdentityFile', async () => {
    expect(await resolveSshConfig('lb01', cfg)).toEqual({
      hostName: '10.0.0.11',
      user: 'admin',
      port: 2222,
      // the included file's key, then Match host on the HostName (its %h and %r expanded)
      identityFiles: [`${home}/.ssh/lab_key`, `${home}/.ssh/10.0.0.11_admin`, `${home}/.ssh/net_key`],
      // Host lb* !lb03, after the Include: its User comes too late (first value wins), its ProxyJump does not
      proxyJump: 'jump@bastion:2200',
      userKnownHostsFile: null,
      hostKeyAlias: null,
    });
  });

  it('Match host applies to the HostName; a User set nowhere is null, not the local user ssh -G prints', async () => {
    expect(await resolveSshConfig('lb02', cfg)).toEqual({
      hostName: '10.0.0.12',
      user: 'first-wins-not',
      port: 22,
      identityFiles: [`${home}/.ssh/10.0.0.12_first-wins-not`, `${home}/.ssh/net_key`],
      proxyJump: 'jump@bastion:2200',
      userKnownHostsFile: `${dir}/known_lab`,
      hostKeyAlias: 'lb02.lab',
    });
    const lb03 = await resolveSshConfig('lb03', cfg);
    // !lb03 excludes it from Host lb*: no ProxyJump, no User; no IdentityFile: ssh's own defaults
    expect(lb03).toMatchObject({ hostName: 'lb03', user: null, port: 22, proxyJump: null, hostKeyAlias: null });
    expect(lb03.identityFiles).toContain(`${home}/.ssh/id_ed25519`);
    expect(lb03.identityFiles[0]).toBe(`${home}/.ssh/id_rsa`);
  });

  it('a User equal to the local user name still counts as set', async () => {
    expect((await resolveSshConfig('mine', cfg)).user).toBe(me);
    // ssh.configFile relative to the working directory, as ssh -F takes it
    expect((await resolveSshConfig('mine', relative(process.cwd(), cfg))).user).toBe(me);
    expect((await resolveSshConfig('other', cfg)).user).toBeNull();
  });

  it('a configuration file that does not exist is no configuration (not even the system one)', async () => {
    expect(await resolveSshConfig('lb01', join(dir, 'absent'))).toMatchObject({
      hostName: 'lb01',
      user: null,
      port: 22,
      proxyJump: null,
      userKnownHostsFile: null,
    });
  });

  it('what ssh refuses is refused with its words; a host that would be an option is refused before ssh', async () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'Host x\n  ProxyJump a:b:c\n');
    const e = await resolveSshConfig('x', bad).then(
      () => null,
      (x: Error) => x,
    );
    expect(e).toBeInstanceOf(PreconditionError);
    expect(e?.message).toBe(`ssh -G x refused the SSH configuration: ${bad} line 2: Invalid ProxyJump "a:b:c"`);
    await expect(resolveSshConfig('-oProxyCommand=x', cfg)).rejects.toThrow('host "-oProxyCommand=x" not understood');
  });
});

describe('ssh_config without ssh: the own parser', () => {
  it('Host patterns and first values, no Include: what it can read', async () => {
    vi.stubEnv('PATH', join(dir, 'no-bin'));
    try {
      expect(await resolveSshConfig('lb02', cfg)).toEqual({
        hostName: 'lb02',
        user: 'first-wins-not',
        port: 22,
        identityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => `${home}/.ssh/${k}`),
        proxyJump: 'jump@bastion:2200',
        userKnownHostsFile: null,
        hostKeyAlias: null,
      });
      // every setting it knows, from a file without Include
      const lab = join(dir, 'config.d', 'lab.conf');
      expect(await resolveSshConfig('lb01', lab)).toMatchObject({
        hostName: '10.0.0.11',
        user: 'admin',
        port: 2222,
        identityFiles: [`${home}/.ssh/lab_key`],
      });
      expect(await resolveSshConfig('lb02', lab)).toMatchObject({
        userKnownHostsFile: `${dir}/known_lab`,
        hostKeyAlias: 'lb02.lab',
      });
      expect(await resolveSshConfig('lb01', join(dir, 'absent'))).toMatchObject({ hostName: 'lb01', user: null });
    } finally {
      vi.stubEnv('PATH', PATH);
    }
  });

  it('first value wins, patterns, ProxyJump', () => {
    const text =
      'Host lb*\n  User admin\n  Port 2222\n  IdentityFile ~/.ssh/lb_key\n' +
      'Host lb02\n  HostName 10.0.0.2\n  User other\n' +
      'Host *\n  ProxyJump bastion\n';
    expect(parseSshConfig(text, 'lb02')).toMatchObject({
      user: 'admin',
      port: 2222,
      hostName: '10.0.0.2',
      proxyJump: 'bastion',
    });
    const w = parseSshConfig(text, 'web01');
    expect(w.user).toBeUndefined();
    expect(w.proxyJump).toBe('bastion');
  });
});
