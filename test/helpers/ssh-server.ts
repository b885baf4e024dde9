/**
 * A real SSH server in the test process (ssh2's Server on 127.0.0.1, a generated host key) for the transport's unit
 * tests: publickey and password logins, `exec` requests answered by a script (`respond`), direct-tcpip forwarding
 * (a ProxyJump through this same server). Every login and command is recorded for the test to check.
 */
import { createServer, connect as tcpConnect, type AddressInfo, type Server as NetServer } from 'node:net';
import ssh2 from 'ssh2';

const { Server, utils } = ssh2;

export interface ExecRequest {
  user: string;
  command: string;
  /** everything the client wrote before it closed its side (EOF) */
  stdin(): Promise<string>;
}

export interface ExecReply {
  stdout?: string;
  stderr?: string;
  /** exit status (default 0); null with `signal`: killed */
  code?: number | null;
  signal?: string;
  /** never answer: the channel stays open until the client closes it */
  hang?: boolean;
  /** write these lines and keep the channel open (a streaming loop, a lock holder) */
  stream?: string[];
}

export type Responder = (req: ExecRequest) => ExecReply | Promise<ExecReply>;

export interface SshUser {
  password?: string;
  /** OpenSSH public key line accepted for the user */
  publicKey?: string;
}

export interface TestSshServer {
  port: number;
  /** the host key's public blob (what known_hosts holds) */
  hostKeyBlob: Buffer;
  hostKeyLine(name: string): string;
  logins: { user: string; method: string }[];
  commands: { user: string; command: string }[];
  forwards: { host: string; port: number }[];
  /** end every client connection (the server stays up) */
  dropAll(): void;
  close(): Promise<void>;
}

export function keyPair(): { private: string; public: string } {
  // ssh2's generator writes an ed25519 key whose public half starts with a zero byte as 31 bytes, which its own
  // parser then refuses ("Malformed OpenSSH private key"): 66 of 20000 keys, a unit run failing now and then
  for (;;) {
    const k = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(k.private) instanceof Error) && !(utils.parseKey(k.public) instanceof Error)) return k;
  }
}

/** a TCP port that accepts connections and never says anything (an SSH server that does not answer) */
export async function silentPort(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const srv: NetServer = createServer((s) => void sockets.add(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        srv.close(() => r());
      }),
  };
}

export async function startSshServer(opts: {
  users: Record<string, SshUser>;
  respond: Responder;
  hostKey?: string;
}): Promise<TestSshServer> {
  const hostKey = opts.hostKey ?? keyPair().private;
  const parsedHost = utils.parseKey(hostKey);
  if (parsedHost instanceof Error) throw parsedHost;
  const hostKeyBlob = parsedHost.getPublicSSH();
  const logins: TestSshServer['logins'] = [];
  const commands: TestSshServer['commands'] = [];
  const forwards: TestSshServer['forwards'] = [];
  const clients = new Set<ssh2.Connection>();

  const server = new Server({ hostKeys: [hostKey] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    let user = '';
    client.on('authentication', (ctx) => {
      const u = opts.users[ctx.username];
      if (ctx.method === 'publickey' && u?.publicKey) {
        const allowed = utils.parseKey(u.publicKey);
        if (
          !(allowed instanceof Error) &&
          ctx.key.algo === allowed.type &&
          ctx.key.data.equals(allowed.getPublicSSH()) &&
          (!ctx.signature || allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo))
        ) {
          if (ctx.signature) {
            user = ctx.username;
            logins.push({ user, method: 'publickey' });
          }
          return ctx.accept();
        }
      }
      if (ctx.method === 'password' && u?.password !== undefined && ctx.password === u.password) {
        user = ctx.username;
        logins.push({ user, method: 'password' });
        return ctx.accept();
      }
      return ctx.reject(['publickey', 'password']);
    });
    client.on('ready', () => {
      client.on('tcpip', (accept, _reject, info) => {
        forwards.push({ host: info.destIP, port: info.destPort });
        const ch = accept();
        const sock = tcpConnect(info.destPort, info.destIP);
        sock.on('error', () => ch.close());
        ch.pipe(sock).pipe(ch);
      });
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (accept, _reject, info) => {
          const ch = accept();
          commands.push({ user, command: info.command });
          const chunks: Buffer[] = [];
          let eof = false;
          const waiters: (() => void)[] = [];
          ch.on('data', (d: Buffer) => chunks.push(d));
          ch.on('end', () => {
            eof = true;
            waiters.splice(0).forEach((w) => w());
          });
          const stdin = () =>
            new Promise<string>((r) => {
              const done = () => r(Buffer.concat(chunks).toString('utf8'));
              if (eof) done();
              else waiters.push(done);
            });
          void Promise.resolve(opts.respond({ user, command: info.command, stdin })).then((reply) => {
            if (reply.stream) {
              for (const l of reply.stream) ch.write(`${l}\n`);
              return;
            }
            if (reply.hang) return;
            if (reply.stdout) ch.write(reply.stdout);
            if (reply.stderr) ch.stderr.write(reply.stderr);
            if (reply.signal) ch.exit(reply.signal, false, '');
            else ch.exit(reply.code ?? 0);
            ch.end();
          });
        });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    hostKeyBlob,
    hostKeyLine: (name) => `${name} ${parsedHost.type} ${hostKeyBlob.toString('base64')}`,
    logins,
    commands,
    forwards,
    dropAll: () => clients.forEach((c) => c.end()),
    close: () =>
      new Promise<void>((r) => {
        clients.forEach((c) => c.end());
        server.close(() => r());
      }),
  };
}

/** the words of a command line as a POSIX shell would split them (single quotes and backslashes, as cmd() writes) */
export function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      i = end;
      has = true;
    } else if (c === '\\') {
      cur += line[++i];
      has = true;
    } else if (c === ' ') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
