// A small loopback HTTP proxy in front of the stack's nginx that can answer 502 (as for a php-fpm reload), 504 (as
// nginx at its read timeout: the request goes on to PHP, which may still finish it), or be down, per request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** `pass`: forward and relay the answer; 502: answer without forwarding; 504: forward, answer 504 before PHP does. */
export type Verdict = 'pass' | 502 | 504;

export interface FlakyProxy {
  url: string;
  /** Requests seen, and answers given by status ('pass' answers count under the upstream's status). */
  stats: { requests: number; answered: Record<string, number> };
  decide: (n: number) => Verdict;
  close(): Promise<void>;
}

export async function startFlakyProxy(upstream: string, decide: (n: number) => Verdict): Promise<FlakyProxy> {
  const target = new URL(upstream);
  const proxy: FlakyProxy = { url: '', stats: { requests: 0, answered: {} }, decide, close: async () => undefined };
  const count = (k: string | number) => {
    proxy.stats.answered[k] = (proxy.stats.answered[k] ?? 0) + 1;
  };
  const server = http.createServer((req, res) => {
    const n = ++proxy.stats.requests;
    const verdict = proxy.decide(n);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (verdict === 502) {
        count(502);
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
        return;
      }
      // The Host header goes on unchanged: it is what the client signed.
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          const body: Buffer[] = [];
          r.on('data', (c: Buffer) => body.push(c));
          r.on('end', () => {
            if (verdict === 504) return; // answered already; PHP finished on its own
            count(r.statusCode ?? 0);
            res
              .writeHead(r.statusCode ?? 502, {
                'content-type': String(r.headers['content-type'] ?? 'application/json'),
              })
              .end(Buffer.concat(body));
          });
        },
      );
      up.on('error', () => {
        if (verdict !== 504) {
          count('error');
          res.writeHead(502).end();
        }
      });
      up.end(Buffer.concat(chunks));
      if (verdict === 504) {
        setTimeout(() => {
          count(504);
          res.writeHead(504, { 'content-type': 'text/html' }).end('<html>504 Gateway Time-out</html>');
        }, 5);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
