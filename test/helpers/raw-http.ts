import { connect } from 'node:net';

/**
 * Writes `request` as raw bytes (so a test can send what no HTTP client would) and gives back the status line
 * of the answer, or `closed` when the server closed the connection without one.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      const line = data.split('\r\n')[0] ?? '';
      resolve(line === '' ? 'closed' : line);
    };
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (data.includes('\r\n')) {
        socket.destroy();
        done();
      }
    });
    socket.on('error', () => done());
    socket.on('close', () => done());
    socket.write(request);
  });
}

export const portOf = (url: string): number => Number(new URL(url).port);
