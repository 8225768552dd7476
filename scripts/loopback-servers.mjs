// Loopback HTTP servers shared by the object-store tests (__test__/servers.ts gives them types)
// and bench/objstore.mjs: a read-only static file server with Range support, and an HTTP proxy
// that injects faults (500/503 replies, connection resets, stalls) and latency. Both listen on
// 127.0.0.1 on a free port.
import { closeSync, createReadStream, existsSync, openSync, readSync, statSync } from 'node:fs';
import http from 'node:http';
import { join, normalize, sep } from 'node:path';

/**
 * A static file server over `root` that honours `Range: bytes=a-b`, `bytes=a-` and `bytes=-n`
 * (one range per request), answers HEAD, refuses writes (405) and counts what it serves.
 */
export async function startRangeServer(root) {
  const counts = { total: 0, GET: 0, HEAD: 0, ranged: 0 };
  const server = http.createServer((req, res) => {
    counts.total++;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    counts[method]++;
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const st = statSync(file);
    const size = st.size;
    const headers = {
      'Last-Modified': st.mtime.toUTCString(),
      ETag: `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      'Accept-Ranges': 'bytes',
    };
    const range = req.headers.range;
    if (!range) {
      res.writeHead(200, { ...headers, 'Content-Length': size });
      if (method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
      return;
    }
    counts.ranged++;
    const m = /^bytes=(\d*)-(\d*)$/.exec(range);
    let start = 0;
    let end = size - 1;
    if (m && m[1] === '' && m[2] !== '') {
      start = Math.max(0, size - Number(m[2]));
    } else if (m && m[1] !== '') {
      start = Number(m[1]);
      end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    }
    if (!m || start >= size || start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    const body = Buffer.allocUnsafe(end + 1 - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, body, 0, body.length, start);
    } finally {
      closeSync(fd);
    }
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': body.length });
    res.end(method === 'HEAD' ? undefined : body);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    reset() {
      Object.assign(counts, { total: 0, GET: 0, HEAD: 0, ranged: 0 });
    },
    stop: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/**
 * An HTTP proxy to `upstream` (an http:// origin). `faults(rules)` sets what it does to the
 * requests that match a rule (method, path substring or RegExp, how many times): answer with a
 * status, reset the connection, or stall until the connection is closed after `ms`.
 * `latencyMs` delays every request before it is forwarded. `log` records each request (method,
 * URL, status, response body bytes).
 */
export async function startFaultProxy(upstream, latencyMs = 0) {
  const target = new URL(upstream);
  let rules = [];
  const log = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const proxy = {
    url: '',
    log,
    latencyMs,
    faults(r) {
      rules = r.map((x) => ({ ...x, left: x.times ?? Number.POSITIVE_INFINITY }));
    },
    stop: async () => {},
  };
  const matches = (rule, req) =>
    (!rule.method || rule.method === req.method) &&
    (!rule.path ||
      (typeof rule.path === 'string' ? (req.url ?? '').includes(rule.path) : rule.path.test(req.url ?? '')));
  const server = http.createServer(async (req, res) => {
    const entry = { method: req.method ?? '', url: req.url ?? '', status: 0, bytes: 0 };
    log.push(entry);
    if (proxy.latencyMs > 0) await new Promise((r) => setTimeout(r, proxy.latencyMs));
    const rule = rules.find((r) => r.left > 0 && matches(r, req));
    if (rule) {
      rule.left--;
      const f = rule.fault;
      if (f.kind === 'status') {
        entry.status = f.status;
        req.resume();
        res.writeHead(f.status, { 'Content-Type': 'text/plain', Connection: 'close' }).end('injected fault');
        return;
      }
      if (f.kind === 'reset') {
        entry.status = 'reset';
        req.socket.resetAndDestroy();
        return;
      }
      entry.status = 'stall';
      req.resume();
      setTimeout(() => req.socket.destroy(), f.ms);
      return;
    }
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        entry.status = upRes.statusCode ?? 0;
        upRes.on('data', (chunk) => {
          entry.bytes += chunk.length;
        });
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.stop = () =>
    new Promise((ok) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => ok());
    });
  return proxy;
}

// `node scripts/loopback-servers.mjs range <root>`: serve <root> from this process and print
// the URL (for callers whose own thread may block on synchronous reads).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/')) && process.argv[2] === 'range') {
  const server = await startRangeServer(process.argv[3]);
  process.stdout.write(`${server.url}\n`);
}
