// A fault-injecting TCP proxy in front of a roomchat server, for the WebSocket:
//   drop()   the connections through it close (FIN): the client sees 1006, no close frame
//   reset()  they are reset (RST)
//   stall()  they stay open but nothing goes through, either way (a dead network path)
//   dropFrames(match)  server-to-client frames whose JSON matches are taken out of the
//                      stream, the connection staying up (a lost broadcast)
//   cutAt(match)       the connection is dropped instead of delivering a matching frame
//   watch(match)       matching server frames are recorded (and delivered)
//   refuse(true/false) new connections are closed at once (the server is out of reach)
// New connections after a fault go through normally.

import { createServer, connect } from "node:net";

export class FaultProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.links = new Set();
    this.frameRules = [];
    this.accepted = 0;
    this.refusing = false;
    this.server = createServer((client) => this.#link(client));
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = this.server.address().port;
    return this;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Close every connection through the proxy now (a FIN each way). */
  drop() {
    for (const link of [...this.links]) link.close();
  }

  /** Reset every connection through the proxy now (an RST to the client). */
  reset() {
    for (const link of [...this.links]) link.close({ reset: true });
  }

  /** Let nothing through on the connections open now, in either direction. */
  stall() {
    for (const link of this.links) link.stalled = true;
  }

  /** Take server frames whose parsed JSON `match`es out of the stream (`times` of them). */
  dropFrames(match, times = 1) {
    this.frameRules.push({ match, times, action: "drop", hits: [] });
    return this.frameRules.at(-1);
  }

  /** Drop the connection instead of delivering the next server frame that `match`es. */
  cutAt(match, times = 1) {
    this.frameRules.push({ match, times, action: "cut", hits: [] });
    return this.frameRules.at(-1);
  }

  /** Record the server frames that `match` (and deliver them). */
  watch(match) {
    this.frameRules.push({ match, times: Number.POSITIVE_INFINITY, action: "watch", hits: [] });
    return this.frameRules.at(-1);
  }

  /** While on, a new connection is closed as soon as it is accepted. */
  refuse(on) {
    this.refusing = on;
  }

  async close() {
    this.drop();
    await new Promise((resolve) => this.server.close(resolve));
  }

  #link(client) {
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.accepted += 1;
    const upstream = connect(this.targetPort, "127.0.0.1");
    const link = new Link(client, upstream, this);
    this.links.add(link);
    link.onClosed = () => this.links.delete(link);
  }

  /** The rule a frame falls under, counting it, or null. */
  ruleFor(frame) {
    if (frame === null || typeof frame !== "object") return null;
    let acting = null;
    for (const rule of this.frameRules) {
      if (rule.times > 0 && rule.match(frame)) {
        rule.times -= 1;
        rule.hits.push(frame);
        if (rule.action !== "watch") acting ??= rule;
      }
    }
    return acting;
  }
}

class Link {
  constructor(client, upstream, proxy) {
    this.client = client;
    this.upstream = upstream;
    this.proxy = proxy;
    this.stalled = false;
    this.closed = false;
    this.headersDone = false;
    this.pending = Buffer.alloc(0);
    this.onClosed = () => {};
    client.on("data", (chunk) => {
      if (!this.stalled) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!this.stalled) this.#fromServer(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on("error", () => this.close());
      socket.on("close", () => this.close());
    }
  }

  close({ reset = false } = {}) {
    if (this.closed) return;
    this.closed = true;
    if (reset) this.client.resetAndDestroy();
    else this.client.destroy();
    this.upstream.destroy();
    this.onClosed();
  }

  /** Server bytes: the HTTP upgrade answer as is, then frame by frame. */
  #fromServer(chunk) {
    this.pending = Buffer.concat([this.pending, chunk]);
    if (!this.headersDone) {
      const end = this.pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.client.write(this.pending.subarray(0, end + 4));
      this.pending = this.pending.subarray(end + 4);
      this.headersDone = true;
    }
    for (;;) {
      const frame = nextFrame(this.pending);
      if (frame === null) return;
      this.pending = this.pending.subarray(frame.length);
      const rule = frame.text === null ? null : this.proxy.ruleFor(parse(frame.text));
      if (rule?.action === "cut") {
        this.close();
        return;
      }
      if (rule?.action === "drop") continue;
      this.client.write(frame.bytes);
    }
  }
}

/** The first whole frame of `buffer` (server frames are not masked), or null. */
function nextFrame(buffer) {
  if (buffer.length < 2) return null;
  const opcode = buffer[0] & 0x0f;
  const fin = (buffer[0] & 0x80) !== 0;
  const masked = (buffer[1] & 0x80) !== 0;
  let length = buffer[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (masked) offset += 4;
  if (buffer.length < offset + length) return null;
  const bytes = buffer.subarray(0, offset + length);
  const text = opcode === 1 && fin && !masked ? bytes.subarray(offset).toString("utf8") : null;
  return { bytes: Buffer.from(bytes), length: offset + length, text };
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
