/**
 * init's summary (printed before applying, and the wizard's review) says what the nginx step will apply: the
 * guides' copy of the configuration only when nginx.sync is on, and ha-setup's load balancer when nginx.upstream
 * is set; never "config from" a node for a pair that keeps each node's own (a Debian + RHEL pair).
 */
import { describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../src/answers/resolve.js';
import { summary } from '../../src/commands/init.js';
import { pair } from '../fixtures/answers.js';

const nginxLines = (nginx: unknown) =>
  summary(resolveAnswers({ ...pair, nginx }, { env: {} }))
    .split('\n')
    .filter((l) => /nginx/.test(l));

describe('init summary: nginx', () => {
  it('sync on: the configuration is copied from syncFrom to the others', () => {
    expect(nginxLines(undefined)).toEqual([
      '  nginx configuration copied from lb01 to the others (rsync of /etc/nginx)',
    ]);
    expect(nginxLines({ syncFrom: 'lb02', configDir: '/opt/nginx/conf' })).toEqual([
      '  nginx configuration copied from lb02 to the others (rsync of /opt/nginx/conf)',
    ]);
  });

  it('sync off: each node keeps its own, with the managed load balancer when there are backends', () => {
    expect(nginxLines({ sync: false })).toEqual(['  nginx: each node keeps its own configuration (nginx.sync: false)']);
    const lines = nginxLines({ sync: false, upstream: { backends: ['web01:80', 'web02:80'] } });
    expect(lines).toEqual([
      '  nginx: each node keeps its own configuration (nginx.sync: false)',
      "  nginx: ha-setup's load balancer for web01:80, web02:80 on every node (port 80 of the VIPs)",
    ]);
    expect(lines.join('\n')).not.toMatch(/config(uration)? (copied )?from/);
  });
});
