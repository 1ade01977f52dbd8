/**
 * One HTTP/1.1 request written as raw bytes on a loopback socket: node's own client merges or
 * refuses some header shapes (two lines of one name) that a real client or a leaky proxy can send.
 */
import { connect } from 'node:net';

export interface RawReply {
  status: number;
  body: string;
}

/** `lines` are header lines without CRLF; Host, Content-Length and Connection: close are added. */
export function rawRequest(port: number, lines: string[], body = '', path = '/'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const head = [
        `POST ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        ...lines,
      ];
      socket.write(`${head.join('\r\n')}\r\n\r\n${body}`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      if (split < 0 || !Number.isInteger(status)) reject(new Error(`not an HTTP answer: ${text.slice(0, 80)}`));
      else resolve({ status, body: text.slice(split + 4) });
    });
  });
}
