/** RFC 3986 percent-encoding as Alibaba's signers use it: encodeURIComponent plus `!'()*`. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** UTC `yyyy-MM-ddTHH:mm:ssZ`, the only timestamp form both signature versions accept. */
export function acsTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
