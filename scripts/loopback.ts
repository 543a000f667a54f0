/** Small pieces shared by the benchmark, the soak run, the attack run and the fault tests, which all drive a real server on loopback. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port free on `host` at the moment of asking (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const address = srv.address();
      srv.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Nearest-rank percentile of ascending values (NaN when there are none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface MemoryFigures {
  /** Largest VmRSS seen by sampling. */
  max_rss_mb: number;
  /** VmHWM: the kernel's own peak RSS of the process's whole life, read at the last sample. */
  hwm_mb: number;
  /** VmHWM at the first sample: when hwm_mb is above it, the peak was set while watching. */
  hwm_start_mb: number;
  samples: number;
  /** The larger of the two: what the target is checked against. */
  peak_mb: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** Samples the resident memory of another process from /proc (Linux) every `everyMs` until stopped. */
export function watchMemory(pid: number, everyMs = 100) {
  let maxRssKb = 0;
  let hwmKb = 0;
  let hwmStartKb = NaN;
  let samples = 0;
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = field(status, 'VmRSS');
      const hwm = field(status, 'VmHWM');
      if (Number.isFinite(rss)) maxRssKb = Math.max(maxRssKb, rss);
      if (Number.isFinite(hwm)) {
        hwmKb = Math.max(hwmKb, hwm);
        if (Number.isNaN(hwmStartKb)) hwmStartKb = hwm;
      }
      samples++;
    } catch {
      // the process has exited, or there is no /proc: the figures say so with samples = 0
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(): MemoryFigures {
      sample();
      clearInterval(timer);
      const mb = (kb: number) => (samples > 0 ? round1(kb / 1024) : NaN);
      return { max_rss_mb: mb(maxRssKb), hwm_mb: mb(hwmKb), hwm_start_mb: mb(hwmStartKb), samples, peak_mb: mb(Math.max(maxRssKb, hwmKb)) };
    },
  };
}
