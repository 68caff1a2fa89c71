// What the tests read from a test sidecar's own HTTP server (--http-port).
/** The sidecar's /metrics page, or '' while it does not answer (not started yet, or stopped). */
export async function metricsText(port: number) {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  } catch {
    return '';
  }
}
