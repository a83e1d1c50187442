/** Progress of long work: a bar on a terminal, plain lines otherwise (logs, CI, pipes). */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `total` undefined: open-ended work (the bar shows the count only). */
  update(done: number, total: number | undefined, status: string): void;
  /** A line that stays (an epoch summary), printed above the bar. */
  log(line: string): void;
  stop(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} {status}`, stream, hideCursor: true, clearOnComplete: true });
    let started = false;
    return {
      update(done, total, status) {
        const end = total ?? done;
        if (!started) {
          bar.start(end, done, { status });
          started = true;
        } else {
          bar.setTotal(end);
          bar.update(done, { status });
        }
      },
      log(line) {
        if (started) bar.stop();
        stream.write(`${line}\n`);
        started = false;
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  // Not a terminal: a line every few seconds, so logs stay readable.
  let last = 0;
  return {
    update(done, total, status) {
      const now = Date.now();
      if (now - last >= 5000 || done === total) {
        stream.write(`${label} ${done}${total === undefined ? '' : `/${total}`} ${status}\n`);
        last = now;
      }
    },
    log(line) {
      stream.write(`${line}\n`);
    },
    stop() {},
  };
}
