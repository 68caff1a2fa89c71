// A wake-up signal: idle lanes wait on it with a deadline; a nudge or a poll tick releases them all at once.
export class Wake {
  private waiters: Array<() => void> = [];
  notify() { for (const w of this.waiters.splice(0)) w(); }
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); resolve(); };
      const t = setTimeout(() => { const i = this.waiters.indexOf(done); if (i >= 0) this.waiters.splice(i, 1); resolve(); }, ms);
      this.waiters.push(done);
    });
  }
}
