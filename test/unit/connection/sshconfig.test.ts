import { describe, it, expect } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { resolveTarget, parseSshArgs, splitArgs, expandTokens } from '../../../src/connection/sshconfig.js';

const home = os.homedir();
const cfg = `
Host web*
  HostName %h.example.com
  User deploy
  IdentityFile ~/.ssh/web_%r
  ConnectTimeout 7
  ServerAliveInterval 4
  ServerAliveCountMax 2
Host bastion
  HostName 192.0.2.1
  User jump
  Port 2200
Host inner
  ProxyJump bastion,admin@hop2:2022
  UserKnownHostsFile ~/kh1 /etc/kh2
  StrictHostKeyChecking accept-new
  HashKnownHosts yes
Host *
  Port 2222
  IdentityFile ~/.ssh/id_all
`;

describe('ssh config resolution', () => {
  it('applies Host sections with wildcards, first value wins, tokens expanded', () => {
    const t = resolveTarget('web1', {}, { sshConfigText: cfg, env: {} });
    expect(t.hostname).toBe('web1.example.com');
    expect(t.user).toBe('deploy');
    expect(t.port).toBe(2222);
    expect(t.identityFiles).toEqual([path.join(home, '.ssh/web_deploy'), path.join(home, '.ssh/id_all')]);
    expect(t.connectTimeoutMs).toBe(7000);
    expect(t.keepaliveIntervalMs).toBe(4000);
    expect(t.keepaliveCountMax).toBe(2);
    expect(t.strictHostKeyChecking).toBe('yes');
    expect(t.jumps).toEqual([]);
  });

  it('defaults: keepalive 5 s x 3, known_hosts in ~/.ssh, local user', () => {
    const t = resolveTarget('plain', {}, { sshConfigText: '', env: {} });
    expect(t.hostname).toBe('plain');
    expect(t.port).toBe(22);
    expect(t.user).toBe(os.userInfo().username);
    expect(t.keepaliveIntervalMs).toBe(5000);
    expect(t.keepaliveCountMax).toBe(3);
    expect(t.knownHostsFiles[0]).toBe(path.join(home, '.ssh/known_hosts'));
  });

  it('resolves ProxyJump chains, each hop through the config', () => {
    const t = resolveTarget('inner', {}, { sshConfigText: cfg, env: {} });
    expect(t.jumps.map((j) => `${j.user}@${j.hostname}:${j.port}`)).toEqual(['jump@192.0.2.1:2200', 'admin@hop2:2022']);
    expect(t.knownHostsFiles).toEqual([path.join(home, 'kh1'), '/etc/kh2']);
    expect(t.strictHostKeyChecking).toBe('accept-new');
    expect(t.hashKnownHosts).toBe(true);
  });

  it('inventory variables override the config', () => {
    const t = resolveTarget(
      'web1',
      {
        ansible_host: 'bastion',
        ansible_port: 2201,
        ansible_user: 'me',
        ansible_ssh_private_key_file: '/keys/k',
        ansible_password: 'pw',
        ansible_ssh_common_args: "-o ProxyJump=web9 -o 'StrictHostKeyChecking accept-new'",
      },
      { sshConfigText: cfg, env: {} },
    );
    expect(t.hostname).toBe('192.0.2.1');
    expect(t.port).toBe(2201);
    expect(t.user).toBe('me');
    expect(t.identityFiles[0]).toBe('/keys/k');
    expect(t.password).toBe('pw');
    expect(t.strictHostKeyChecking).toBe('accept-new');
    expect(t.jumps.map((j) => j.hostname)).toEqual(['web9.example.com']);
    const t2 = resolveTarget('x', { ansible_ssh_common_args: '-J u@j1:2000,j2' }, { sshConfigText: '', env: {} });
    expect(t2.jumps.map((j) => `${j.user}@${j.hostname}:${j.port}`)).toEqual(['u@j1:2000', `${os.userInfo().username}@j2:22`]);
    expect(resolveTarget('y', {}, { sshConfigText: '', acceptNewHostKeys: true, env: {} }).strictHostKeyChecking).toBe('accept-new');
  });

  it('parses ssh argument strings', () => {
    expect(splitArgs(`-o "A=b c" -o'X=y' \\ z`)).toEqual(['-o', 'A=b c', "-oX=y", ' z']);
    expect(parseSshArgs('-o StrictHostKeyChecking=no -oUserKnownHostsFile=/dev/null -J a,b -p 99')).toEqual({
      stricthostkeychecking: ['no'],
      userknownhostsfile: ['/dev/null'],
      proxyjump: ['a,b'],
      port: ['99'],
    });
    expect(expandTokens('%d/x-%h-%p-%r-%%', { h: 'H', p: 22, r: 'R', n: 'N' })).toBe(`${home}/x-H-22-R-%`);
  });
});
