// /healthz (JSON, 200 or 503) and /metrics (Prometheus) on 127.0.0.1 only.
import { createServer, Server } from 'node:http';
import type { HealthSource } from '../sidecar-set';
import type { Metrics } from '../metrics';

const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);

export function startHttp(port: number, sidecar: HealthSource, metrics: Metrics): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/healthz') {
      // Health is the age of what the loop last did successfully (heartbeat written, claims made), not a flag:
      // a database that stalls answers nothing, so nothing would ever have reported it unhealthy.
      const now = Date.now();
      const problems = sidecar.healthProblems(now);
      const body = {
        status: problems.length ? 'unhealthy' : 'ok',
        problems,
        sidecar: sidecar.sidecarId,
        /** The same ID under its old name (it names the sidecar, not a PHP worker), kept for existing probes. */
        worker: sidecar.sidecarId,
        lanes: sidecar.laneCount,
        running: sidecar.running,
        executed: sidecar.executedTotal,
        lastClaimAt: iso(sidecar.lastClaimAt),
        lastHeartbeatAt: iso(sidecar.lastHeartbeatAt),
        heartbeatAgeMs: sidecar.lastHeartbeatAt ? now - sidecar.lastHeartbeatAt : null,
      };
      res.writeHead(problems.length ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
