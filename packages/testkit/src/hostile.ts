import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { listen } from './net.ts';

/**
 * Receivers that misbehave the ways real endpoints do, on loopback, for the isolation tests and
 * bench/isolation. Each speaks raw bytes after the TLS handshake (no HTTP server to be polite):
 * - `hang`: reads the request, never answers;
 * - `endless-body`: answers 200 and then a chunked body, 64 bytes every 25 ms, forever;
 * - `dribbled-headers`: sends a status line, then one byte of a header every 50 ms, forever;
 * - `huge-headers`: answers with a megabyte of headers;
 * - `no-tls`: accepts the TCP connection and never speaks, TLS or anything else.
 */
export type HostileKind = 'hang' | 'endless-body' | 'dribbled-headers' | 'huge-headers' | 'no-tls';

export const HOSTILE_KINDS: readonly HostileKind[] = [
  'hang',
  'endless-body',
  'dribbled-headers',
  'huge-headers',
  'no-tls',
];

export interface HostileEndpoint {
  kind: HostileKind;
  url: string;
  /** Connections it accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

const MEGABYTE_OF_HEADERS = Buffer.from(
  `HTTP/1.1 200 OK\r\n${Array.from({ length: 1024 }, (_, i) => `x-pad-${i}: ${'a'.repeat(1000)}\r\n`).join('')}content-length: 0\r\n\r\n`,
);

/** What the receiver does once a request starts arriving. */
function misbehave(kind: HostileKind, socket: Socket): void {
  let timer: NodeJS.Timeout | undefined;
  socket.once('close', () => clearInterval(timer));
  socket.once('data', () => {
    if (kind === 'endless-body') {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n');
      timer = setInterval(() => socket.write(`40\r\n${'z'.repeat(64)}\r\n`), 25);
    } else if (kind === 'dribbled-headers') {
      socket.write('HTTP/1.1 200 OK\r\nx-dribble: ');
      timer = setInterval(() => socket.write('a'), 50);
    } else if (kind === 'huge-headers') {
      socket.write(MEGABYTE_OF_HEADERS);
    }
  });
}

export async function startHostileEndpoint(
  kind: HostileKind,
  tls: { certPem: string; keyPem: string },
): Promise<HostileEndpoint> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const track = (socket: Socket) => {
    connections++;
    sockets.add(socket);
    // The client gives up and resets: nothing to report.
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  };
  let server: Server;
  if (kind === 'no-tls') {
    server = createTcpServer((socket) => socket.resume());
  } else {
    server = createTlsServer({ cert: tls.certPem, key: tls.keyPem }, (socket) => {
      socket.on('error', () => {});
      misbehave(kind, socket);
      socket.resume();
    });
    // A handshake the client abandons (its own timeout) is no failure of this server's.
    server.on('tlsClientError', () => {});
  }
  // Every TCP connection, handshake or not, so that close() ends them all.
  server.on('connection', track);
  const port = await listen(server);
  return {
    kind,
    url: `https://127.0.0.1:${port}/hook`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
