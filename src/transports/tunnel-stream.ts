// A socket-shaped Duplex over a forwarded SSH channel, for `new pg.Client({ stream })`.
// pg drives its stream like a net.Socket: setNoDelay, connect(port, host), then waits
// for 'connect'; setKeepAlive, ref and unref may follow. The channel opens on connect.
import { Duplex } from 'node:stream';

/** A Duplex that opens its channel with `open()` when pg calls `connect`, then pipes both ways. */
export function tunnelStream(open: () => Promise<Duplex>): Duplex {
  return new TunnelStream(open);
}

class TunnelStream extends Duplex {
  private channel: Duplex | null = null;
  private opening: Promise<Duplex> | null = null;
  connecting = false;

  constructor(private readonly open: () => Promise<Duplex>) {
    super({ allowHalfOpen: false });
  }

  /** Opens the channel (port and host are the tunnel's business, not pg's). */
  connect(..._args: unknown[]): this {
    if (this.opening) return this;
    this.connecting = true;
    this.opening = this.open();
    this.opening.then(
      (channel) => this.attach(channel),
      (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return this;
  }

  private attach(channel: Duplex): void {
    this.connecting = false;
    if (this.destroyed) {
      channel.destroy();
      return;
    }
    this.channel = channel;
    channel.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause();
    });
    channel.once('end', () => this.push(null));
    channel.once('error', (error: Error) => this.destroy(error));
    channel.once('close', () => {
      // A channel closed without an orderly end: pg sees the tunnel go away.
      if (!this.readableEnded) this.push(null);
      if (!this.destroyed && !this.writableFinished) this.destroy();
    });
    this.emit('connect');
    this.emit('ready');
  }

  override _read(): void {
    this.channel?.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.withChannel((channel) => channel.write(chunk, encoding, callback), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.withChannel((channel) => {
      channel.end();
      callback();
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.channel?.destroy();
    this.opening?.then((channel) => channel.destroy(), () => undefined);
    callback(error);
  }

  private withChannel(use: (channel: Duplex) => void, fail: (error: Error) => void): void {
    if (this.channel) return use(this.channel);
    if (!this.opening) return fail(new Error('tunnel stream written before connect()'));
    this.opening.then(use, (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
