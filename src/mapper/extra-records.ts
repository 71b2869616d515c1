// DNS extra records from `dns.extra_records_path`: a JSON array of {name, type, value}, read at
// start, then watched; a changed file (by content hash) is re-read and every node gets the new
// DNSConfig. A file that stops parsing keeps the last good records and is logged.

import crypto from 'node:crypto';
import fs from 'node:fs';
import type { DnsRecord } from '../config/index.js';
import type { Logger } from '../lib/logger.js';
import { SwitchboardError, describeError } from '../lib/errors.js';

export function parseExtraRecords(text: string, file: string): DnsRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SwitchboardError('ERR_CONFIG_INVALID', `${file}: not valid JSON: ${describeError(err)}`);
  }
  if (!Array.isArray(doc)) throw new SwitchboardError('ERR_CONFIG_INVALID', `${file}: expected a JSON array of {name, type, value}`);
  return doc.map((r, i) => {
    const rec = r as Partial<DnsRecord> | null;
    if (!rec || typeof rec.name !== 'string' || typeof rec.value !== 'string' || (rec.type !== undefined && typeof rec.type !== 'string')) {
      throw new SwitchboardError('ERR_CONFIG_INVALID', `${file}: record ${i} needs string "name", "type" and "value"`);
    }
    return { name: rec.name, type: rec.type ?? 'A', value: rec.value };
  });
}

export class ExtraRecordsFile {
  readonly #file: string;
  readonly #logger: Logger;
  #hash = '';
  #records: DnsRecord[] = [];
  #watcher: fs.StatWatcher | undefined;

  constructor(file: string, logger: Logger) {
    this.#file = file;
    this.#logger = logger;
  }

  get records(): DnsRecord[] {
    return this.#records;
  }

  /** Reads the file (a bad file stops start-up) and watches it; onChange runs after each change. */
  start(onChange: () => void, intervalMs = 1000): void {
    this.#load(true);
    this.#watcher = fs.watchFile(this.#file, { interval: intervalMs, persistent: false }, () => {
      if (this.#load(false)) onChange();
    });
  }

  /** Re-reads the file; true when the records changed. */
  #load(strict: boolean): boolean {
    try {
      const text = fs.readFileSync(this.#file, 'utf8');
      const hash = crypto.createHash('sha256').update(text).digest('hex');
      if (hash === this.#hash) return false;
      this.#records = parseExtraRecords(text, this.#file);
      this.#hash = hash;
      this.#logger.info('DNS extra records loaded', { file: this.#file, records: this.#records.length });
      return true;
    } catch (err) {
      if (strict) throw err;
      this.#logger.warn('DNS extra records file unreadable, keeping the previous records', { file: this.#file, error: describeError(err) });
      return false;
    }
  }

  close(): void {
    if (this.#watcher) fs.unwatchFile(this.#file);
  }
}
