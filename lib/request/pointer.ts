/** JSON Pointer (RFC 6901) of a value inside a request, as `errors[].path` names it. */
export function pointer(base: string, ...segments: ReadonlyArray<string | number>): string {
  return segments.reduce<string>((path, s) => `${path}/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`, base);
}

/** The name a pointer ends with (`/0/param/sellerId` → `sellerId`). */
export function lastSegment(path: string): string {
  return (path.split('/').at(-1) ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}
