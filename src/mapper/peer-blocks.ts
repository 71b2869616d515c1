// Full maps as concatenated zstd frames, with the peer list compressed once per block of node
// IDs and the same bytes reused for every viewer. A zstd stream may hold several frames back to
// back and decodes to their concatenation (RFC 8878 §3.1; Tailscale's decoder reads them all),
// so a full map is: a frame with this viewer's own parts, the cached frames of the blocks it
// sees unchanged, and a frame with the rest. Only the block holding the viewer, the first run
// of peers (no leading comma) and peers shaped for this viewer are compressed per map: a
// joining node's map of ten thousand peers costs a few small compressions and a copy.
//
// A cached block is valid while it holds exactly the same peers with the same JSON strings
// (the WireCache hands out the same string until a node changes), so nothing has to invalidate
// it: a changed node simply makes its block miss once.

import { compress } from 'zstd-napi';

export interface PeerEntry {
  id: number;
  json: string;
  /** True when `json` is the peer's shared wire form (not shaped for one viewer). */
  shared: boolean;
}

interface Block {
  ids: number[];
  jsons: string[];
  frame: Buffer;
}

export const DEFAULT_PEER_BLOCK_SIZE = 64;

export class PeerBlocks {
  readonly #size: number;
  readonly #blocks = new Map<number, Block>();
  /** Blocks compressed for the cache so far (a measure of reuse). */
  compressedBlocks = 0;

  constructor(size = DEFAULT_PEER_BLOCK_SIZE) {
    this.#size = Math.max(1, Math.floor(size));
  }

  #blockOf(id: number): number {
    return Math.floor(id / this.#size);
  }

  /**
   * The zstd body (without length prefix) of `before` + `,"Peers":[...]` + `after`, where
   * `before` opens the JSON object and `after` closes it. `viewerId`'s own block is never cached.
   */
  body(before: string, peers: PeerEntry[], after: string, viewerId: number): Buffer {
    const frames: Buffer[] = [];
    let text = before;
    if (peers.length > 0) {
      text += ',"Peers":[';
      const selfBlock = this.#blockOf(viewerId);
      let i = 0;
      while (i < peers.length) {
        const k = this.#blockOf(peers[i]!.id);
        let j = i + 1;
        while (j < peers.length && this.#blockOf(peers[j]!.id) === k) j++;
        const run = peers.slice(i, j);
        if (i > 0 && k !== selfBlock && run.every((p) => p.shared)) {
          frames.push(compress(Buffer.from(text, 'utf8')));
          text = '';
          frames.push(this.#cached(k, run));
        } else {
          for (let r = 0; r < run.length; r++) text += (i === 0 && r === 0 ? '' : ',') + run[r]!.json;
        }
        i = j;
      }
      text += ']';
    }
    frames.push(compress(Buffer.from(text + after, 'utf8')));
    return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
  }

  #cached(k: number, run: PeerEntry[]): Buffer {
    const hit = this.#blocks.get(k);
    if (hit && hit.ids.length === run.length && run.every((p, x) => hit.ids[x] === p.id && hit.jsons[x] === p.json)) return hit.frame;
    const jsons = run.map((p) => p.json);
    const frame = compress(Buffer.from(',' + jsons.join(','), 'utf8'));
    this.compressedBlocks++;
    this.#blocks.set(k, { ids: run.map((p) => p.id), jsons, frame });
    return frame;
  }

}
