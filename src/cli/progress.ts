// Progress of long work on stderr: on a terminal a bar (cli-progress) with
// the fraction done and the time left, redrawn in place; on anything else (a
// log file, CI) a plain line at most every PERIOD seconds; nothing with
// --quiet. Short work prints nothing: the bar appears only after DELAY
// seconds. The solvers run synchronously, so the bar is redrawn from
// `report` itself (cli-progress's synchronous updates), never by a timer.
import cliProgress from 'cli-progress';

// a CommonJS package: its named exports are read from the default export
const { Format, Presets, SingleBar } = cliProgress;

export interface Progress {
  /** fraction done in [0, 1], with a label ("simulating N = 2000") */
  report: (label: string, fraction: number) => void;
  /** a one-off note (an estimate, an adjustment, a stage begun); not shown with --quiet */
  note: (text: string) => void;
  /** clear the terminal line */
  done: () => void;
}

/** Seconds between plain lines when stderr is not a terminal. */
export const PERIOD = 10;
/** Seconds before a terminal bar appears (work that ends sooner prints nothing). */
export const DELAY = 1;

export function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Time left from the time spent on a stage and its fraction done (undefined while too early to tell). */
function timeLeft(elapsed: number, f: number): string | undefined {
  return f > 0.02 && elapsed > 2 ? `about ${duration((elapsed * (1 - f)) / f)} left` : undefined;
}

export function progressReporter(opts: { quiet?: boolean; command: string; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { report: () => {}, note: () => {}, done: () => {} };
  const t0 = Date.now();
  const elapsedSince = (t: number) => (Date.now() - t) / 1000;
  if (stream.isTTY !== true) {
    let lastPlain = t0;
    let stage = '', stageT0 = t0;
    return {
      report: (label, f) => {
        if (label !== stage) { stage = label; stageT0 = Date.now(); }
        if (Date.now() - lastPlain < PERIOD * 1000) return;
        lastPlain = Date.now();
        const left = timeLeft(elapsedSince(stageT0), f);
        stream.write(`dmft ${opts.command}: ${label}: ${Math.floor(clamp(f) * 100)}%${left ? `, ${left}` : ''} (${duration(elapsedSince(t0))} elapsed)\n`);
      },
      note: (text) => { stream.write(`dmft ${opts.command}: ${text}\n`); },
      done: () => {},
    };
  }
  // a terminal: one bar per stage (a new label starts a new bar, so that the time left is the stage's)
  let bar: InstanceType<typeof SingleBar> | undefined;
  let stage = '', stageT0 = t0;
  const stop = () => { bar?.stop(); bar = undefined; };
  return {
    report: (label, f) => {
      if (label !== stage) { stop(); stage = label; stageT0 = Date.now(); }
      if (!bar) {
        if (elapsedSince(t0) < DELAY) return;
        bar = new SingleBar({
          ...Presets.shades_classic, stream, barsize: 24, hideCursor: false, clearOnComplete: true, gracefulExit: false, linewrap: false,
          synchronousUpdate: true, fps: 10, noTTYOutput: false,
          format: (o, p) => `${label} ${Format.BarFormat(p.progress, o)} ${Math.floor(p.progress * 100)}%${(() => { const l = timeLeft(elapsedSince(stageT0), p.progress); return l ? `, ${l}` : ''; })()}`,
        });
        bar.start(1, 0);
      }
      bar.update(clamp(f));
    },
    note: (text) => {
      stop();
      stage = '';
      stream.write(`dmft ${opts.command}: ${text}\n`);
    },
    done: stop,
  };
}

function clamp(f: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(f) ? f : 0));
}
