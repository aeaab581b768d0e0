// Progress of long work on stderr: on a terminal one line updated in place; on
// anything else (a log file, CI) a plain line at most every PERIOD seconds;
// nothing with --quiet. Short work prints nothing.

export interface Progress {
  /** fraction done in [0, 1], with a label ("simulating N = 2000") */
  report: (label: string, fraction: number) => void;
  /** a one-off note (an estimate, an adjustment); not shown with --quiet */
  note: (text: string) => void;
  /** clear the terminal line */
  done: () => void;
}

/** Seconds between plain lines when stderr is not a terminal. */
export const PERIOD = 10;

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function progressReporter(opts: { quiet?: boolean; command: string; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { report: () => {}, note: () => {}, done: () => {} };
  const t0 = Date.now();
  const tty = stream.isTTY === true;
  let lastLine = '';
  let lastPlain = t0;
  let shown = false;
  return {
    report: (label, f) => {
      const elapsed = (Date.now() - t0) / 1000;
      const left = f > 0.02 && elapsed > 2 ? `, about ${duration((elapsed * (1 - f)) / f)} left` : '';
      const line = `${label}: ${Math.floor(Math.min(1, Math.max(0, f)) * 100)}%${left}`;
      if (tty) {
        if (line === lastLine) return;
        lastLine = line;
        shown = true;
        stream.write(`\r\x1b[K${line}`);
        return;
      }
      if (Date.now() - lastPlain < PERIOD * 1000) return;
      lastPlain = Date.now();
      stream.write(`dmft ${opts.command}: ${line} (${duration(elapsed)} elapsed)\n`);
    },
    note: (text) => {
      if (tty && shown) stream.write('\r\x1b[K');
      stream.write(`dmft ${opts.command}: ${text}\n`);
    },
    done: () => { if (tty && shown) stream.write('\r\x1b[K'); shown = false; },
  };
}
