// Samples a process tree's resident memory and CPU time from /proc while a scenario runs.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; cpu: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS };
  } catch {
    return undefined;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s && s.ppid === pid) out.push(Number(d));
  }
  return out;
}

export interface Usage {
  sidecarRssMaxMb: number;
  sidecarCpuSec: number;
  workerRssMaxMb: number;
  workerCpuSec: number;
}

/** Polls every `ms` until stop(); CPU is the last seen cumulative time of the sidecar and of each worker. */
export function sample(pid: number, ms = 250) {
  const usage: Usage = { sidecarRssMaxMb: 0, sidecarCpuSec: 0, workerRssMaxMb: 0, workerCpuSec: 0 };
  const workerCpu = new Map<number, number>();
  const tick = () => {
    usage.sidecarRssMaxMb = Math.max(usage.sidecarRssMaxMb, rssMb(pid));
    usage.sidecarCpuSec = stat(pid)?.cpu ?? usage.sidecarCpuSec;
    for (const c of children(pid)) {
      usage.workerRssMaxMb = Math.max(usage.workerRssMaxMb, rssMb(c));
      const s = stat(c);
      if (s) workerCpu.set(c, s.cpu);
    }
    usage.workerCpuSec = [...workerCpu.values()].reduce((a, b) => a + b, 0);
  };
  const timer = setInterval(tick, ms);
  tick();
  return {
    stop: () => {
      tick();
      clearInterval(timer);
      return usage;
    },
  };
}
