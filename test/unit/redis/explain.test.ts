import { describe, expect, it } from 'vitest';
import { explainReplyError } from '../../../lib/redis/client.js';
import { ReplyError } from '../../../lib/redis/resp.js';
import { safeRedisMessage } from '../../../lib/redis/connect.js';

describe('what the client says about answers that mean the URL names the wrong server', () => {
  it.each<[string, string, string[], RegExp]>([
    ['MOVED', 'MOVED 3999 10.0.0.7:6381', ['GET', 'k'], /answered MOVED: it is a cluster node.*proxy endpoint/],
    ['ASK', 'ASK 3999 10.0.0.7:6381', ['EVALSHA', 'abc', '1', 'k'], /answered ASK: it is a cluster node/],
    ['CROSSSLOT', "CROSSSLOT Keys in request don't hash to the same slot", ['MGET', 'a', 'b'], /cluster proxy/],
    ['READONLY', "READONLY You can't write against a read only replica.", ['SET', 'k', 'v'], /read-only replica/],
    ['a database out of range', 'ERR DB index is out of range', ['SELECT', '99'], /names database 99, which/],
    ['SELECT on a cluster', 'ERR SELECT is not allowed in cluster mode', ['SELECT', '99'], /database 0 only/],
    ['no EVALSHA', "ERR unknown command 'EVALSHA', with args beginning with: ", ['EVALSHA'], /no Lua scripts/],
  ])('explains %s', (_name, message, args, expected) => {
    const explained = explainReplyError(new ReplyError(message), args, 99);
    expect(explained.message).toMatch(expected);
    // What reaches a log or an answer keeps its point after the store's redaction and length limit.
    expect(safeRedisMessage(explained)).toMatch(expected);
  });

  it('leaves every other error as the server said it', () => {
    const err = new ReplyError('NOSCRIPT No matching script. Please use EVAL.');
    expect(explainReplyError(err, ['EVALSHA'], 0)).toBe(err);
  });
});
