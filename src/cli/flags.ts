// Flag parsers shared by the commands: IDs, comma lists, expirations. A bad value stops the
// command with a message naming the flag.

import { InvalidArgumentError } from 'commander';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { parseDuration } from '../lib/duration.js';

export function parseId(value: string): bigint {
  if (!/^\d{1,19}$/.test(value)) throw new InvalidArgumentError('must be a non-negative whole number');
  return BigInt(value);
}

export function parseSignedId(value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** Comma-separated and repeatable, like Go's StringSlice flags. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  return [...(previous ?? []), ...items];
}

/** "--expiration 90d" → a timestamp that far from now. */
export function expirationFromNow(text: string, flag = '--expiration'): Timestamp {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) {
    throw new Error(`invalid ${flag} "${text}": use a duration such as 30m, 24h or 90d`);
  }
  return timestampFromDate(new Date(Date.now() + ms));
}
