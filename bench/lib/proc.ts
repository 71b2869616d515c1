// What the benchmarks read about a server process from /proc: CPU seconds (utime + stime, all
// threads), resident set and its peak.

import fs from 'node:fs';

export interface ProcStats {
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
}

export function procStats(pid: number): ProcStats {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s)
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / 100, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}
