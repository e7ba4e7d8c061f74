// A progress bar on stderr when it is a terminal; silent otherwise (scripts, pipes, tests).
import cliProgress from 'cli-progress';

export type Progress = (done: number, total: number) => void;

export function progressBar(label: string, unit: 'items' | 'bytes' = 'items'): { update: Progress; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const fmt = unit === 'bytes' ? '{percentage}% | {doneMB}/{totalMB} MB | {eta_formatted}' : '{percentage}% | {value}/{total} | {eta_formatted}';
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] ${fmt}`, stream: process.stderr, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  let started = false;
  const mb = (n: number) => (n / 1048576).toFixed(1);
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, 0, { doneMB: mb(0), totalMB: mb(total) });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { doneMB: mb(done), totalMB: mb(total) });
    },
    stop: () => started && bar.stop(),
  };
}
