/** The part of `ali-oss` (6.23) the campaign code uses; the package ships no types of its own for Node. */
declare module 'ali-oss' {
  import type { Readable } from 'node:stream';

  interface ResponseInfo {
    status: number;
    headers: Record<string, string | undefined>;
  }

  export interface AliOssOptions {
    endpoint?: string;
    region?: string;
    bucket?: string;
    accessKeyId: string;
    accessKeySecret: string;
    stsToken?: string;
    secure?: boolean;
    cname?: boolean;
    sldEnable?: boolean;
    authorizationV4?: boolean;
    timeout?: number;
    urllib?: { request(url: string, params: Record<string, unknown>): Promise<unknown> };
  }

  export interface ListedObject {
    name: string;
    size: number;
    etag: string;
  }

  export default class OSS {
    constructor(options: AliOssOptions);
    put(
      name: string,
      body: Buffer,
      options?: { headers?: Record<string, string>; mime?: string },
    ): Promise<{ res: ResponseInfo }>;
    get(name: string, options?: { headers?: Record<string, string> }): Promise<{ content: Buffer; res: ResponseInfo }>;
    getStream(
      name: string,
      options?: { headers?: Record<string, string> },
    ): Promise<{ stream: Readable; res: ResponseInfo }>;
    head(name: string): Promise<{ res: ResponseInfo; status: number }>;
    delete(name: string): Promise<{ res: ResponseInfo }>;
    list(query: Record<string, string | number> | null, options?: object): Promise<{ objects?: ListedObject[] }>;
    listV2(
      query?: Record<string, string | number>,
      options?: object,
    ): Promise<{ objects?: ListedObject[]; isTruncated: boolean; nextContinuationToken: string | null }>;
  }
}
