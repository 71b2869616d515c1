// Where the DERP map comes from: `derp.paths` (local YAML/JSON files), `derp.urls` (remote JSON
// DERP maps, as Tailscale publishes them) and the embedded region. Refreshed every
// `derp.update_frequency` when `derp.auto_update_enabled`; a source that fails keeps its last
// good value, and a change is announced to every node.

import type { DERPMap, DERPRegion } from '../tailcfg/types.js';
import type { Logger } from '../lib/logger.js';
import { describeError } from '../lib/errors.js';
import { mergeDerpMaps, readDerpFile } from './derp-map.js';

export interface DerpSourceOptions {
  paths: string[];
  urls: string[];
  embedded: DERPRegion | undefined;
  autoUpdate: boolean;
  updateFrequencyMs: number;
  logger: Logger;
  fetchJson?: (url: string) => Promise<unknown>;
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

function regionsOf(doc: unknown, url: string): Record<string, DERPRegion> {
  const regions = (doc as { Regions?: Record<string, DERPRegion> } | null)?.Regions;
  if (!regions || typeof regions !== 'object') throw new Error(`${url} is not a DERP map (no Regions)`);
  return regions;
}

export class DerpSources {
  readonly #opts: DerpSourceOptions;
  readonly #last = new Map<string, Record<string, DERPRegion | null>>();
  #map: DERPMap = { Regions: {} };
  #timer: NodeJS.Timeout | undefined;
  #onChange: (() => void) | undefined;

  constructor(opts: DerpSourceOptions) {
    this.#opts = opts;
  }

  get map(): DERPMap {
    return this.#map;
  }

  /** Loads every source once (a bad file stops start-up; an unreachable URL only warns). */
  async start(onChange: () => void): Promise<void> {
    for (const p of this.#opts.paths) this.#last.set(`file:${p}`, readDerpFile(p));
    await this.#refreshUrls();
    this.#rebuild();
    this.#onChange = onChange;
    if (this.#opts.autoUpdate && this.#opts.updateFrequencyMs > 0 && (this.#opts.urls.length > 0 || this.#opts.paths.length > 0)) {
      this.#timer = setInterval(() => void this.refresh(), this.#opts.updateFrequencyMs);
      this.#timer.unref();
    }
  }

  async refresh(): Promise<void> {
    for (const p of this.#opts.paths) {
      try {
        this.#last.set(`file:${p}`, readDerpFile(p));
      } catch (err) {
        this.#opts.logger.warn('DERP map file unreadable, keeping the previous one', { path: p, error: describeError(err) });
      }
    }
    await this.#refreshUrls();
    const before = JSON.stringify(this.#map);
    this.#rebuild();
    if (JSON.stringify(this.#map) !== before) this.#onChange?.();
  }

  async #refreshUrls(): Promise<void> {
    const fetchJson = this.#opts.fetchJson ?? defaultFetchJson;
    for (const url of this.#opts.urls) {
      try {
        this.#last.set(`url:${url}`, regionsOf(await fetchJson(url), url));
      } catch (err) {
        this.#opts.logger.warn('DERP map URL unavailable, keeping the previous one', { url, error: describeError(err) });
      }
    }
  }

  #rebuild(): void {
    const ordered = [...this.#opts.urls.map((u) => `url:${u}`), ...this.#opts.paths.map((p) => `file:${p}`)];
    this.#map = mergeDerpMaps(ordered.map((k) => this.#last.get(k) ?? {}), this.#opts.embedded);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
