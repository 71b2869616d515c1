// Owns Go time.Duration text: parsing ("1h30m", "-1m", "0s") and formatting ("168h0m1s"),
// because SSH checkPeriod errors quote Go's forms.

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parse a Go duration into nanoseconds, or null if Go would reject it. */
export function parseGoDuration(s: string): number | null {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return null;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = re.exec(rest);
    if (!m) return null;
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

/** Format nanoseconds as Go's Duration.String does (whole-second precision and finer). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let v = Math.abs(ns);
  let out: string;
  if (v < 1e9) {
    if (v < 1e3) out = `${v}ns`;
    else if (v < 1e6) out = `${v / 1e3}µs`;
    else out = `${v / 1e6}ms`;
  } else {
    const h = Math.floor(v / 3600e9);
    v -= h * 3600e9;
    const m = Math.floor(v / 60e9);
    v -= m * 60e9;
    const sec = v / 1e9;
    out = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${out}` : out;
}
