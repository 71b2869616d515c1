// Full maps as concatenated zstd frames, with the peer list compressed once per block of node
// IDs and the same bytes reused for every viewer. A zstd stream may hold several frames back to
// back and decodes to their concatenation (RFC 8878 §3.1; Tailscale's decoder reads them all),
// so a full map is: a frame with this viewer's own parts, the cached frames of the blocks it
// sees unchanged, and a frame with the rest. Only the block holding the viewer and peers shaped
// for this viewer are compressed per map (a block that opens the peer list has a second cached
// form without its leading comma): a joining node's map of ten thousand peers costs a few small
// compressions and a copy.
//
// A cached block is valid while it holds exactly the same peers with the same JSON strings
// (the WireCache hands out the same string until a node changes). `body` checks that peer by
// peer; `sharedBody`, for viewers who see every node in its shared form, checks only the IDs
// and trusts `touch`, which the mapper calls whenever a node's shared JSON may have changed.

import { zstdCompress } from './frames.js';

export interface PeerEntry {
  id: number;
  json: string;
  /** True when `json` is the peer's shared wire form (not shaped for one viewer). */
  shared: boolean;
}

interface Block {
  ids: number[];
  jsons: string[];
  /** `,` + the peers joined by `,`, compressed. */
  frame: Buffer;
  /** The same without the leading comma, for a block that opens the peer list (made when first asked). */
  head?: Buffer;
  /** A node of this block changed since the frame was built. */
  dirty: boolean;
}

/** What `sharedBody` needs of a node. */
export interface BlockNode {
  readonly id: number;
}

export const DEFAULT_PEER_BLOCK_SIZE = 64;

export class PeerBlocks {
  readonly #size: number;
  readonly #blocks = new Map<number, Block>();
  /** Blocks compressed for the cache so far (a measure of reuse). */
  compressedBlocks = 0;
  /** Bytes of JSON text compressed so far, cached blocks and per-map text alike. */
  compressedBytes = 0;

  constructor(size = DEFAULT_PEER_BLOCK_SIZE) {
    this.#size = Math.max(1, Math.floor(size));
  }

  #blockOf(id: number): number {
    return Math.floor(id / this.#size);
  }

  /** The node's shared JSON may have changed (or it came or went). */
  touch(id: number): void {
    const block = this.#blocks.get(this.#blockOf(id));
    if (block) block.dirty = true;
  }

  /**
   * The zstd frames, in order, of `before` + `,"Peers":[...]` + `after`, where `before` opens
   * the JSON object and `after` closes it (their concatenation is the map's body, without its
   * length prefix). `viewerId`'s own block is never cached.
   */
  body(before: string, peers: PeerEntry[], after: string, viewerId: number): Buffer[] {
    return this.#assemble(before, after, peers, viewerId, (i) => peers[i]!.json, (k, i, j) => {
      const run = peers.slice(i, j);
      return run.every((p) => p.shared) ? this.#cached(k, run) : undefined;
    });
  }

  /**
   * Like `body`, for a viewer whose peers are every node of `nodes` (sorted by ID) except
   * itself, each in its shared form `json(node)`. Cached blocks are used without looking at
   * their JSON: O(blocks) work besides the viewer's own block and the first run.
   */
  sharedBody<N extends BlockNode>(before: string, nodes: readonly N[], viewerId: number, json: (node: N) => string, after: string): Buffer[] {
    return this.#assemble(before, after, nodes, viewerId, (i) => json(nodes[i]!), (k, i, j) => this.#clean(k, nodes, i, j, json));
  }

  /**
   * Walks the entries in runs of one block each: the viewer's block goes into this map's own
   * text (the viewer itself left out), every other run is the block `cached` gives for it, or
   * inline text when it gives none.
   */
  #assemble(
    before: string,
    after: string,
    entries: readonly BlockNode[],
    viewerId: number,
    jsonAt: (i: number) => string,
    cached: (block: number, i: number, j: number) => Block | undefined,
  ): Buffer[] {
    const frames: Buffer[] = [];
    let text = before;
    const selfBlock = this.#blockOf(viewerId);
    let first = true;
    let i = 0;
    while (i < entries.length) {
      const k = this.#blockOf(entries[i]!.id);
      let j = i + 1;
      while (j < entries.length && this.#blockOf(entries[j]!.id) === k) j++;
      const block = k === selfBlock ? undefined : cached(k, i, j);
      if (block) {
        if (first) text += ',"Peers":[';
        if (text !== '') frames.push(this.#compress(text));
        frames.push(first ? (block.head ??= this.#compress(block.jsons.join(','))) : block.frame);
        text = '';
        first = false;
      } else {
        for (let r = i; r < j; r++) {
          if (entries[r]!.id === viewerId) continue;
          text += (first ? ',"Peers":[' : ',') + jsonAt(r);
          first = false;
        }
      }
      i = j;
    }
    if (!first) text += ']';
    frames.push(this.#compress(text + after));
    return frames;
  }

  /** Block k for nodes[i..j), rebuilt when it is dirty or holds other nodes. */
  #clean<N extends BlockNode>(k: number, nodes: readonly N[], i: number, j: number, json: (node: N) => string): Block {
    const hit = this.#blocks.get(k);
    if (hit && !hit.dirty && hit.ids.length === j - i) {
      let same = true;
      for (let x = 0; x < hit.ids.length && same; x++) same = hit.ids[x] === nodes[i + x]!.id;
      if (same) return hit;
    }
    const run = nodes.slice(i, j);
    return this.#store(k, run.map((n) => n.id), run.map(json));
  }

  #cached(k: number, run: PeerEntry[]): Block {
    const hit = this.#blocks.get(k);
    if (hit && hit.ids.length === run.length && run.every((p, x) => hit.ids[x] === p.id && hit.jsons[x] === p.json)) return hit;
    return this.#store(k, run.map((p) => p.id), run.map((p) => p.json));
  }

  #store(k: number, ids: number[], jsons: string[]): Block {
    const block: Block = { ids, jsons, frame: this.#compress(',' + jsons.join(',')), dirty: false };
    this.compressedBlocks++;
    this.#blocks.set(k, block);
    return block;
  }

  #compress(text: string): Buffer {
    const bytes = Buffer.from(text, 'utf8');
    this.compressedBytes += bytes.length;
    return zstdCompress(bytes);
  }

}
