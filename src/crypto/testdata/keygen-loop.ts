// Generates key pairs in a tight loop the way a burst of Noise handshakes does (an ephemeral
// X25519Key and a raw pair each); run by keygen-gc.test.ts in a child with a tiny young heap.
import { generateKeyPair } from '../keys.js';
import { X25519Key } from '../../protocol/noise/primitives.js';

const count = Number(process.argv[2] ?? 5000);
for (let i = 0; i < count; i++) {
  X25519Key.generate();
  generateKeyPair();
}
process.stdout.write(`generated ${count}\n`);
