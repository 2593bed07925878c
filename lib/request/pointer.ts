const escapeSegment = (s: string) =>
  s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;

/** JSON Pointer (RFC 6901) of a value inside a request, as `errors[].path` names it. */
export function pointer(base: string, ...segments: ReadonlyArray<string | number>): string {
  let path = base;
  for (const s of segments) path += `/${typeof s === 'number' ? s : escapeSegment(s)}`;
  return path;
}

/** The name a pointer ends with (`/0/param/sellerId` → `sellerId`). */
export function lastSegment(path: string): string {
  return (path.split('/').at(-1) ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}
