import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { isIP } from 'node:net';
import { BodyTooLarge, hardenServer, readBody } from '../http-io.js';
import { listen, type Listening } from '../listen.js';
import { verifyOssRequest, type OssCredential, type SignedRequest } from './signature.js';

/**
 * An OSS-compatible bucket endpoint for the local stack: PutObject, GetObject (with one `Range: bytes=…`),
 * HeadObject, DeleteObject and ListObjects (V1 and V2), every request signed (V1 or V4) by a known key and
 * recent. Objects live in memory (a million-line list is ~30 MB). No maintained OSS emulator exists, and
 * `ali-oss` does not work against MinIO (its signatures differ), so the stack serves its own.
 *
 * Addressing, as `ali-oss` sends it: with an IP endpoint (`endpoint: 'http://127.0.0.1:PORT'`) it puts the bucket
 * in the Host header (`<bucket>.oss-<region>.aliyuncs.com`) and the key in the path: virtual-hosted style, the
 * recommended set-up. With a host name endpoint and `sldEnable: true` it sends `/<bucket>/<key>` to the endpoint's
 * host: path style. A Host name with a dot (or naming a served bucket) is virtual-hosted by its first label; an IP
 * or `localhost` Host is path style. `cname: true` maps one endpoint to one bucket and is not supported.
 */

export interface OssServerOptions {
  buckets: readonly string[];
  credentials: readonly OssCredential[];
  /** The region V4 signatures must be scoped to (ali-oss: `region: 'oss-cn-hangzhou'` signs `cn-hangzhou`). */
  region?: string;
  host?: string;
  port?: number;
  maxObjectBytes?: number;
  now?: () => number;
}

export interface OssServer extends Listening {
  region: string;
}

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  contentType: string;
}

const DEFAULT_MAX_OBJECT_BYTES = 256 * 1024 * 1024;
const LIST_MAX_KEYS = 1000;
const LIST_DEFAULT_KEYS = 100;
const RANGE = /^bytes=(\d*)-(\d*)$/;
const OWNER = '<Owner><ID>local</ID><DisplayName>local</DisplayName></Owner>';

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const element = (name: string, value: string | number | boolean) => `<${name}>${xmlEscape(String(value))}</${name}>`;

class OssError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
    readonly extra: Record<string, string> = {},
  ) {}
}

function sendXml(res: http.ServerResponse, status: number, body: string, requestId: string): void {
  const bytes = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': String(bytes.length),
    'x-oss-request-id': requestId,
  });
  res.end(bytes);
}

function sendError(res: http.ServerResponse, err: OssError, requestId: string, host: string, head: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const fields = Object.entries(err.extra)
    .map(([name, value]) => element(name, value))
    .join('');
  const body = `<Error>${element('Code', err.code)}${element('Message', err.message)}${element('RequestId', requestId)}${element('HostId', host)}${fields}</Error>`;
  if (head) {
    res.writeHead(err.status, { 'x-oss-request-id': requestId, 'x-oss-err-code': err.code });
    res.end();
    return;
  }
  sendXml(res, err.status, body, requestId);
}

interface Address {
  bucket: string;
  key: string;
}

function address(req: http.IncomingMessage, buckets: ReadonlyMap<string, unknown>): Address | OssError {
  const url = new URL(req.url ?? '/', 'http://local');
  const hostname = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const label = hostname.split('.')[0] ?? '';
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return new OssError(400, 'InvalidObjectName', 'The object name is not valid percent-encoded UTF-8.');
  }
  if (isIP(hostname) === 0 && hostname !== 'localhost' && (hostname.includes('.') || buckets.has(label)))
    return { bucket: label, key: path.slice(1) };
  const [, bucket = '', ...rest] = path.split('/');
  return { bucket, key: rest.join('/') };
}

function rangeOf(header: string | undefined, size: number): { start: number; end: number } | 'whole' | OssError {
  if (header === undefined) return 'whole';
  const m = RANGE.exec(header.trim());
  // OSS answers an invalid (or multi-part) range with the whole object.
  if (!m || (m[1] === '' && m[2] === '')) return 'whole';
  const [, a = '', b = ''] = m;
  let start: number;
  let end: number;
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return 'whole';
  }
  if (start >= size || size === 0)
    return new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.', { ObjectSize: String(size) });
  return { start, end };
}

function objectHeaders(o: StoredObject): Record<string, string> {
  return {
    etag: o.etag,
    'last-modified': o.lastModified.toUTCString(),
    'content-type': o.contentType,
    'accept-ranges': 'bytes',
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': 'Standard',
  };
}

function listXml(bucket: string, objects: Map<string, StoredObject>, query: URLSearchParams): string {
  const v2 = query.get('list-type') === '2';
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(LIST_MAX_KEYS, Number(query.get('max-keys') ?? LIST_DEFAULT_KEYS) || LIST_DEFAULT_KEYS);
  const after = v2 ? (query.get('continuation-token') ?? query.get('start-after') ?? '') : (query.get('marker') ?? '');
  const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const contents: string[] = [];
  const prefixes = new Set<string>();
  let last = '';
  let truncated = false;
  for (const key of keys) {
    if (contents.length + prefixes.size >= maxKeys) {
      truncated = true;
      break;
    }
    last = key;
    const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    if (cut !== -1) {
      prefixes.add(key.slice(0, cut + delimiter.length));
      continue;
    }
    const o = objects.get(key);
    if (!o) continue;
    contents.push(
      `<Contents>${element('Key', key)}${element('LastModified', o.lastModified.toISOString())}${element('ETag', o.etag)}${element('Type', 'Normal')}${element('Size', o.body.length)}${element('StorageClass', 'Standard')}${OWNER}</Contents>`,
    );
  }
  const common = [...prefixes].map((p) => `<CommonPrefixes>${element('Prefix', p)}</CommonPrefixes>`).join('');
  const head = `${element('Name', bucket)}${element('Prefix', prefix)}${element('MaxKeys', maxKeys)}${element('Delimiter', delimiter)}${element('IsTruncated', truncated)}`;
  const paging = v2
    ? `${element('KeyCount', contents.length + prefixes.size)}${truncated ? element('NextContinuationToken', last) : ''}`
    : `${element('Marker', after)}${truncated ? element('NextMarker', last) : ''}`;
  return `<ListBucketResult>${head}${paging}${contents.join('')}${common}</ListBucketResult>`;
}

export async function startOssServer(options: OssServerOptions): Promise<OssServer> {
  const region = options.region ?? 'cn-hangzhou';
  const now = options.now ?? Date.now;
  const maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  const credentials = new Map(options.credentials.map((c) => [c.accessKeyId, c]));
  const buckets = new Map(options.buckets.map((b) => [b, new Map<string, StoredObject>()]));

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, requestId: string) => {
    const method = req.method ?? 'GET';
    const where = address(req, buckets);
    if (where instanceof OssError) throw where;
    const body = method === 'PUT' ? await readBody(req, maxObjectBytes) : Buffer.alloc(0);
    const url = new URL(req.url ?? '/', 'http://local');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    const signed: SignedRequest = {
      method,
      headers,
      bucket: where.bucket,
      key: where.key,
      query: [...url.searchParams],
      body,
    };
    const verdict = verifyOssRequest(signed, (id) => credentials.get(id), { now: now(), region });
    if (!verdict.ok) {
      const extra: Record<string, string> = {};
      if (verdict.accessKeyId !== undefined) extra['OSSAccessKeyId'] = verdict.accessKeyId;
      if (verdict.stringToSign !== undefined) extra['StringToSign'] = verdict.stringToSign;
      throw new OssError(verdict.status, verdict.code, verdict.message, extra);
    }
    const objects = buckets.get(where.bucket);
    if (!objects)
      throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: where.bucket });

    if (where.key === '') {
      if (method !== 'GET') throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed.');
      sendXml(res, 200, listXml(where.bucket, objects, url.searchParams), requestId);
      return;
    }
    const common = { 'x-oss-request-id': requestId };
    switch (method) {
      case 'PUT': {
        const etag = `"${createHash('md5').update(body).digest('hex').toUpperCase()}"`;
        const contentType = headers['content-type'] ?? 'application/octet-stream';
        objects.set(where.key, { body, etag, lastModified: new Date(now()), contentType });
        res.writeHead(200, { ...common, etag, 'content-length': '0' });
        res.end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const o = objects.get(where.key);
        if (!o) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: where.key });
        const range = rangeOf(headers['range'], o.body.length);
        if (range instanceof OssError) throw range;
        const part = range === 'whole' ? o.body : o.body.subarray(range.start, range.end + 1);
        const extra: Record<string, string> =
          range === 'whole' ? {} : { 'content-range': `bytes ${range.start}-${range.end}/${o.body.length}` };
        res.writeHead(range === 'whole' ? 200 : 206, {
          ...common,
          ...objectHeaders(o),
          ...extra,
          'content-length': String(part.length),
        });
        res.end(method === 'HEAD' ? undefined : part);
        return;
      }
      case 'DELETE':
        objects.delete(where.key);
        res.writeHead(204, common);
        res.end();
        return;
      default:
        throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed.');
    }
  };

  const server = http.createServer((req, res) => {
    const requestId = randomUUID().replace(/-/g, '').toUpperCase().slice(0, 24);
    const host = req.headers.host ?? '';
    handle(req, res, requestId).catch((err: unknown) => {
      const ossError =
        err instanceof OssError
          ? err
          : err instanceof BodyTooLarge
            ? new OssError(400, 'EntityTooLarge', `Your proposed upload exceeds ${maxObjectBytes} bytes.`)
            : new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.');
      sendError(res, ossError, requestId, host, req.method === 'HEAD');
    });
  });
  hardenServer(server);
  // A 30 MB list may take longer than the stack's default 10 s on a busy machine.
  server.requestTimeout = 120_000;
  const listening = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  return { ...listening, region };
}
