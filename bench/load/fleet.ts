// The coordinator's handle on the simulated nodes: forks worker processes (worker.ts), deals
// node indices out round-robin, and fans each request out to every worker, merging answers.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, JoinRecord, MarkerReport, ToWorker, WorkerStatus } from './protocol.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

type Request = ToWorker extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

class WorkerHandle {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  constructor() {
    const profile = process.env.LOAD_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LOAD_CPU_PROFILE}/workers`] : [];
    this.#child = fork(WORKER, [], { execArgv: ['--import', 'tsx', '--max-old-space-size=8192', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (raw) => {
      const msg = raw as FromWorker;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.op === 'error') p.reject(new Error(`worker: ${msg.message}`));
      else p.resolve(msg);
    });
    this.#child.on('exit', (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`worker exited with ${code}`));
      this.#pending.clear();
    });
  }

  request<T extends FromWorker>(req: Request): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.#child.connected) return reject(new Error('worker is gone'));
      this.#pending.set(id, { resolve: resolve as (m: FromWorker) => void, reject });
      this.#child.send({ ...req, id }, (err) => {
        if (err) {
          this.#pending.delete(id);
          reject(err);
        }
      });
    });
  }

  /** Gives the worker a few seconds to exit on its own (it writes its profile then), then kills it. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, process.env.LOAD_CPU_PROFILE ? 60_000 : 5000);
        this.#child.once('exit', () => resolve(clearTimeout(timer)));
      });
    }
    this.#child.kill('SIGKILL');
  }
}

export class Fleet {
  readonly #workers: WorkerHandle[];
  readonly size: number;

  constructor(size: number, workers: number) {
    this.size = size;
    this.#workers = Array.from({ length: workers }, () => new WorkerHandle());
  }

  #owner(index: number): WorkerHandle {
    return this.#workers[index % this.#workers.length]!;
  }

  async init(target: { host: string; port: number; serverKey: string }, sampleEvery: number, firstIndex = 0): Promise<void> {
    await Promise.all(
      this.#workers.map((w, k) => {
        const indices: number[] = [];
        for (let i = k; i < this.size; i += this.#workers.length) indices.push(firstIndex + i);
        return w.request({ op: 'init', ...target, indices, sampleEvery });
      }),
    );
  }

  async join(authKey: string, concurrency: number): Promise<JoinRecord[]> {
    const per = Math.max(1, Math.ceil(concurrency / this.#workers.length));
    const answers = await Promise.all(this.#workers.map((w) => w.request<Extract<FromWorker, { op: 'joined' }>>({ op: 'join', authKey, concurrency: per })));
    return answers.flatMap((a) => a.records);
  }

  async watch(markers: string[]): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.request({ op: 'watch', markers })));
  }

  /** Makes node `index` announce a new endpoint; resolves with the time it was sent. */
  async endpoint(index: number, endpoint: string): Promise<number> {
    const r = await this.#owner(index).request<Extract<FromWorker, { op: 'endpointSent' }>>({ op: 'endpoint', index, endpoint });
    return r.sent;
  }

  /** Who saw each marker and when; `peek` keeps watching, otherwise the markers are dropped. */
  async collect(markers: string[], peek = false): Promise<MarkerReport[]> {
    const answers = await Promise.all(this.#workers.map((w) => w.request<Extract<FromWorker, { op: 'markers' }>>({ op: 'collect', markers, peek })));
    return markers.map((marker, i) => ({
      marker,
      seen: answers.flatMap((a) => a.reports[i]!.seen),
      seenBy: answers.flatMap((a) => a.reports[i]!.seenBy),
      missing: answers.reduce((s, a) => s + a.reports[i]!.missing, 0),
    }));
  }

  async status(): Promise<WorkerStatus> {
    const answers = await Promise.all(this.#workers.map((w) => w.request<Extract<FromWorker, { op: 'status' }>>({ op: 'status' })));
    return {
      connected: answers.reduce((s, a) => s + a.connected, 0),
      withMap: answers.reduce((s, a) => s + a.withMap, 0),
      bytesRead: answers.reduce((s, a) => s + a.bytesRead, 0),
      reconnectedAt: answers.flatMap((a) => a.reconnectedAt),
      lostAt: answers.flatMap((a) => a.lostAt),
      lastFirstMap: Math.max(...answers.map((a) => a.lastFirstMap)),
      samplePeers: answers.flatMap((a) => a.samplePeers),
      rss: answers.reduce((s, a) => s + a.rss, 0),
      cpu: answers.reduce((s, a) => ({ user: s.user + a.cpu.user, system: s.system + a.cpu.system }), { user: 0, system: 0 }),
    };
  }

  async resetReconnects(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.request({ op: 'resetReconnects' })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.request({ op: 'stop' }).catch(() => undefined)));
    await Promise.all(this.#workers.map((w) => w.kill()));
  }
}
