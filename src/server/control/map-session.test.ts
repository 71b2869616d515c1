import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import { decompress } from 'zstd-napi';
import { MapSession } from './map-session.js';
import { encodeFrame } from '../../mapper/frames.js';

class FakeStream extends EventEmitter {
  frames: Buffer[] = [];
  writableLength = 0;
  ended = false;
  respond(): void {}
  write(b: Buffer): boolean {
    this.frames.push(b);
    return true;
  }
  end(): void {
    this.ended = true;
  }
}

function decode(frame: Buffer): string {
  const len = frame.readUInt32LE(0);
  assert.equal(len, frame.length - 4);
  return decompress(frame.subarray(4)).toString();
}

test('keep-alives follow 50–59 s of silence, and each message resets the wait', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const stream = new FakeStream();
    const session = new MapSession(stream as unknown as H2ServerStream, 7, true, () => {});
    session.start(encodeFrame('{"Node":{}}', true));
    assert.equal(decode(stream.frames[0]!), '{"Node":{}}');
    mock.timers.tick(49_000);
    assert.equal(stream.frames.length, 1, 'nothing before 50 s');
    session.send('{"PeersRemoved":[3]}');
    mock.timers.tick(49_000);
    assert.equal(stream.frames.length, 2, 'the delta restarted the wait');
    mock.timers.tick(10_001);
    assert.equal(stream.frames.length, 3);
    assert.equal(decode(stream.frames[2]!), '{"KeepAlive":true}');
    mock.timers.tick(60_000);
    assert.equal(stream.frames.length, 4, 'and again after the next silence');
  } finally {
    mock.timers.reset();
  }
});

test('a client that stops reading is cut off instead of buffered', () => {
  const stream = new FakeStream();
  let ended = 0;
  const session = new MapSession(stream as unknown as H2ServerStream, 7, false, () => ended++);
  session.start(encodeFrame('{}', true));
  stream.writableLength = 64 << 20;
  session.send('{"PeersRemoved":[1]}');
  assert.equal(stream.frames.length, 1, 'the message is not queued');
  assert.equal(stream.ended, true);
  assert.equal(ended, 1);
  assert.equal(session.ended, true);
  stream.emit('close');
  assert.equal(ended, 1, 'onEnd runs once');
});
