import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type HandshakeFacts, HandshakeObserver } from './handshake.ts';

/**
 * A pass-through stream between the TCP socket and TLS that shows every byte to a
 * `HandshakeObserver`. Cost: the connection runs through a JS stream (Node's JSStreamSocket)
 * instead of the native handle; bench/delivery measures it against raw undici.
 */
export class HandshakeTap extends Duplex {
  private readonly raw: Socket;
  private readonly observer = new HandshakeObserver();

  constructor(raw: Socket) {
    super({ allowHalfOpen: false });
    this.raw = raw;
    raw.on('data', (chunk: Buffer) => {
      this.observer.serverBytes(chunk);
      if (!this.push(chunk)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
    // Not destroyed on 'close': the receiver's last bytes (often an alert) must still reach TLS.
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.observer.clientBytes(chunk);
    this.raw.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.destroy();
    cb(err);
  }

  keylog(line: Buffer): void {
    this.observer.keylog(line);
  }

  facts(): HandshakeFacts {
    return this.observer.facts();
  }
}
