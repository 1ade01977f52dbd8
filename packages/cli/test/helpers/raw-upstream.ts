import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { listen } from '@hookwarden/testkit';

export interface RawRequest {
  /** The request line and header lines, as sent. */
  head: string;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** A chunked body from `at`: the body and where it ends, or undefined while incomplete. */
function chunkedBody(bytes: Buffer, at: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let i = at;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, i);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(bytes.subarray(i, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size at ${i}`);
    i = lineEnd + 2;
    if (size === 0) {
      // No trailers expected: the last chunk is followed by one empty line.
      if (bytes.length < i + 2) return undefined;
      return { body: Buffer.concat(parts), end: i + 2 };
    }
    if (bytes.length < i + size + 2) return undefined;
    parts.push(bytes.subarray(i, i + size));
    i += size + 2;
  }
}

/**
 * Splits bytes into the requests a strict HTTP/1.1 server reads from them (RFC 9112 §6.3):
 * chunked, else Content-Length, else no body. What does not yet make a whole request is `rest`.
 */
export function parseRequests(bytes: Buffer): { requests: RawRequest[]; rest: Buffer } {
  const requests: RawRequest[] = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf(HEAD_END, at);
    if (headEnd < 0) break;
    const head = bytes.subarray(at, headEnd).toString('latin1');
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    let body: Buffer;
    let end: number;
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunked = chunkedBody(bytes, bodyStart);
      if (!chunked) break;
      ({ body, end } = chunked);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (bytes.length < bodyStart + length) break;
      body = bytes.subarray(bodyStart, bodyStart + length);
      end = bodyStart + length;
    }
    requests.push({ head, headers, body });
    at = end;
  }
  return { requests, rest: bytes.subarray(at) };
}

export interface RawUpstream {
  port: number;
  /** Every request read so far, on any connection, in order. */
  requests: RawRequest[];
  /** Resolves once every connection accepted so far has closed: all its bytes are then read. */
  closed(): Promise<void>;
  close(): void;
}

/**
 * An upstream on raw TCP that reads requests by their framing alone (not Node's parser, which a
 * proxy under test may share assumptions with) and answers each whole one `200 ok`, keeping alive.
 */
export async function startRawUpstream(): Promise<RawUpstream> {
  const requests: RawRequest[] = [];
  const closings: Promise<unknown>[] = [];
  const server = createServer((socket: Socket) => {
    closings.push(once(socket, 'close'));
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      const { requests: whole, rest } = parseRequests(Buffer.concat([pending, data]));
      pending = rest;
      for (const r of whole) {
        requests.push(r);
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      }
    });
    socket.on('error', () => {});
  });
  const port = await listen(server);
  return {
    port,
    requests,
    closed: async () => {
      await Promise.all(closings);
    },
    close: () => server.close(),
  };
}
