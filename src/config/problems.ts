// Where a configuration value came from, and the list of problems found while loading. Every
// problem is collected (never thrown one by one) so the operator sees all of them at once, each
// naming the key and the line, column or environment variable that set it.

import { SwitchboardError } from '../lib/errors.js';

/** A position in the config file (1-based), an environment variable, or nowhere (a default). */
export type Location = { readonly line: number; readonly column: number } | { readonly env: string } | undefined;

export interface Problem {
  /** Dotted key path; empty for a problem with the file as a whole (YAML syntax). */
  readonly path: string;
  readonly loc: Location;
  readonly why: string;
}

export function describeLocation(loc: Location): string {
  if (!loc) return '';
  if ('env' in loc) return ` (from env ${loc.env})`;
  return ` (line ${loc.line}, column ${loc.column})`;
}

/** Shorter form used in warnings: the line only, or the env variable. */
export function describeLine(loc: Location): string {
  if (!loc) return '';
  if ('env' in loc) return ` (from env ${loc.env})`;
  return ` (line ${loc.line})`;
}

export class ProblemList {
  readonly #items: Problem[] = [];

  add(path: string, loc: Location, why: string): void {
    this.#items.push({ path, loc, why });
  }

  get size(): number {
    return this.#items.length;
  }

  get items(): readonly Problem[] {
    return this.#items;
  }

  /** One line per problem: file positions in line order, then env variables, then the rest. */
  lines(): string[] {
    const rank = (loc: Location): number => (!loc ? 3e9 : 'env' in loc ? 2e9 : loc.line * 1e4 + loc.column);
    const sorted = [...this.#items].sort((a, b) => rank(a.loc) - rank(b.loc));
    return sorted.map((p) => {
      if (p.path === '' && p.loc && 'line' in p.loc) return `  line ${p.loc.line}, column ${p.loc.column}: ${p.why}`;
      return `  ${p.path}${describeLocation(p.loc)}: ${p.why}`;
    });
  }

  /** Throws ERR_CONFIG_INVALID listing every problem, if there are any. */
  throwIfAny(sourceLabel: string): void {
    if (this.#items.length === 0) return;
    throw new SwitchboardError('ERR_CONFIG_INVALID', [`invalid configuration in ${sourceLabel}:`, ...this.lines()].join('\n'));
  }
}
