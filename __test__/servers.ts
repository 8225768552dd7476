// Real servers on loopback for the object-store suites: an S3-protocol server (moto, from the
// .venv-servers venv that scripts/setup-python.sh makes), Azurite (npm), and (from
// scripts/loopback-servers.mjs) a plain HTTP server with Range support and a fault-injecting
// proxy to put between a client and any of them.
// Every server listens on 127.0.0.1 on a free port and is stopped by the suite that started it.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { join } from 'node:path';
import * as loopback from '../scripts/loopback-servers.mjs';
import { ROOT, tmp } from './helpers.js';

export const SERVERS_PYTHON = join(ROOT, '.venv-servers', 'bin', 'python');

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as AddressInfo;
  await new Promise((ok) => srv.close(ok));
  return port;
}

async function waitFor(url: string, proc: ChildProcess, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let exited = false;
  proc.once('exit', () => {
    exited = true;
  });
  while (Date.now() < end) {
    if (exited) throw new Error(`${what} exited before it was ready`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} did not start within ${timeoutMs} ms`);
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((ok) => proc.once('exit', ok));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

function captureOutput(proc: ChildProcess): () => string {
  let out = '';
  const add = (b: Buffer) => {
    out = (out + b.toString()).slice(-4000);
  };
  proc.stdout?.on('data', add);
  proc.stderr?.on('data', add);
  return () => out;
}

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  stop(): Promise<void>;
}

/** Fake SigV4 header naming `service`: moto routes by it; unchecked in the no-auth window. */
function unsignedFor(service: string): Record<string, string> {
  return {
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDSETUP/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  };
}

/**
 * moto's S3 server (through scripts/moto_server.py, which fixes its SigV4 query check) with
 * authentication on: the first four requests (create a user, its key and
 * an allow-all policy, then the bucket) run before checks start; every later request must be
 * signed with that key, so wrong credentials really fail.
 */
export async function startS3(bucket = 'zn-test'): Promise<S3Server> {
  if (!existsSync(SERVERS_PYTHON)) {
    throw new Error(`${SERVERS_PYTHON} is missing: run 'bash scripts/setup-python.sh' (npm test and .ci/run do)`);
  }
  const port = await freePort();
  const proc = spawn(SERVERS_PYTHON, [join(ROOT, 'scripts', 'moto_server.py'), '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: '4' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = captureOutput(proc);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${endpoint}/moto-api/`, proc, 'moto');
    const iam = async (params: Record<string, string>) => {
      const r = await fetch(`${endpoint}/`, {
        method: 'POST',
        headers: { ...unsignedFor('iam'), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`moto IAM ${params.Action} failed: ${r.status} ${text}`);
      return text;
    };
    await iam({ Action: 'CreateUser', UserName: 'zarrs-node' });
    const key = await iam({ Action: 'CreateAccessKey', UserName: 'zarrs-node' });
    await iam({
      Action: 'PutUserPolicy',
      UserName: 'zarrs-node',
      PolicyName: 'all',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      }),
    });
    const r = await fetch(`${endpoint}/${bucket}`, { method: 'PUT', headers: unsignedFor('s3') });
    if (!r.ok) throw new Error(`moto CreateBucket failed: ${r.status} ${await r.text()}`);
    const tag = (t: string) => key.match(new RegExp(`<${t}>([^<]+)</${t}>`))?.[1] ?? '';
    return {
      endpoint,
      accessKeyId: tag('AccessKeyId'),
      secretAccessKey: tag('SecretAccessKey'),
      bucket,
      stop: () => stopProcess(proc),
    };
  } catch (e) {
    await stopProcess(proc);
    throw new Error(`${(e as Error).message}\n--- moto output ---\n${output()}`);
  }
}

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzureServer {
  /** Account URL, path style: `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  port: number;
  container: string;
  stop(): Promise<void>;
}

/** Create a container with a SharedKey-signed request (object_store does not create them). */
async function createContainer(blobUrl: string, container: string): Promise<void> {
  const date = new Date().toUTCString();
  const version = '2021-08-06';
  const url = new URL(`${blobUrl}/${container}?restype=container`);
  const toSign = [
    'PUT',
    ...Array(11).fill(''),
    `x-ms-date:${date}`,
    `x-ms-version:${version}`,
    `/${AZURITE_ACCOUNT}${url.pathname}\nrestype:container`,
  ].join('\n');
  const sig = createHmac('sha256', Buffer.from(AZURITE_KEY, 'base64')).update(toSign, 'utf8').digest('base64');
  const r = await fetch(url, {
    method: 'PUT',
    headers: { 'x-ms-date': date, 'x-ms-version': version, Authorization: `SharedKey ${AZURITE_ACCOUNT}:${sig}` },
  });
  if (r.status !== 201 && r.status !== 409) {
    throw new Error(`Azurite create container failed: ${r.status} ${await r.text()}`);
  }
}

/** Azurite's blob service, in memory. */
export async function startAzurite(container = 'zn-test'): Promise<AzureServer> {
  const port = await freePort();
  const bin = join(ROOT, 'node_modules', '.bin', 'azurite-blob');
  const proc = spawn(
    bin,
    ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--skipApiVersionCheck'],
    // Anything Azurite writes next to itself lands in a temp dir, not the checkout.
    { cwd: tmp('zn-azurite-'), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = captureOutput(proc);
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  try {
    await waitFor(`http://127.0.0.1:${port}/`, proc, 'Azurite');
    await createContainer(endpoint, container);
    return { endpoint, port, container, stop: () => stopProcess(proc) };
  } catch (e) {
    await stopProcess(proc);
    throw new Error(`${(e as Error).message}\n--- Azurite output ---\n${output()}`);
  }
}

export interface RangeServer {
  url: string;
  /** Requests served: all, GET, HEAD, and those with a Range header. */
  counts: { total: number; GET: number; HEAD: number; ranged: number };
  reset(): void;
  stop(): Promise<void>;
}

/** What the proxy does to a request that matches a rule. */
export type Fault =
  | { kind: 'status'; status: number }
  /** Close the connection without answering (the client sees a reset). */
  | { kind: 'reset' }
  /** Accept the request and never answer; the connection is closed after `ms`. */
  | { kind: 'stall'; ms: number };

export interface FaultRule {
  /** Only requests with this method (default any). */
  method?: string;
  /** Only requests whose path and query contain this (default any). */
  path?: string | RegExp;
  /** How many matching requests to hit (default unlimited). */
  times?: number;
  fault: Fault;
}

export interface ProxyLog {
  method: string;
  url: string;
  status: number | 'reset' | 'stall';
  /** Response body bytes forwarded. */
  bytes: number;
}

export interface FaultProxy {
  url: string;
  /** Every request seen, in order, with what was answered. */
  log: ProxyLog[];
  /** Replace the fault rules. */
  faults(rules: FaultRule[]): void;
  /** Added delay before each request is forwarded. */
  latencyMs: number;
  stop(): Promise<void>;
}

/** The range server in a child process (for tests whose thread blocks on synchronous reads). */
export async function startRangeServerProcess(root: string): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [join(ROOT, 'scripts', 'loopback-servers.mjs'), 'range', root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    proc.stdout?.once('data', (b: Buffer) => ok(b.toString().trim()));
    proc.once('exit', () => fail(new Error('range server exited')));
  });
  return { url, stop: () => stopProcess(proc) };
}

/** See scripts/loopback-servers.mjs (shared with bench/objstore.mjs). */
export const startRangeServer: (root: string) => Promise<RangeServer> = loopback.startRangeServer;
export const startFaultProxy: (upstream: string, latencyMs?: number) => Promise<FaultProxy> = loopback.startFaultProxy;
