import { spawn, type ChildProcess } from 'node:child_process';
import type { FcContext } from '../../lib/fc.js';
import type { InstanceInfo, InvocationOutcome } from './invoker.js';
import { END_MARK, type FromInstance, type ToInstance } from './protocol.js';
import type { SharedServer } from './shared-server.js';

/** How long a finished invocation's result may wait for its end-of-log mark before it is answered anyway. */
const END_MARK_GRACE_MS = 1_000;

export interface InstanceSpec {
  functionName: string;
  /** FC_INSTANCE_ID, which FC also sends back in `x-fc-instance-id`. */
  instanceId: string;
  /** node flags before the runner (`--import tsx` when the runner or the functions are TypeScript). */
  execArgv: string[];
  /** The runner module the process starts (local/instances/runner.ts, or its build). */
  runner: string;
  env: NodeJS.ProcessEnv;
  shared: SharedServer;
  /** Each line the instance writes to stdout, with the request id of the invocation running then. */
  onLine(line: string, requestId: string | undefined): void;
  onStderr(chunk: Buffer): void;
  /** The process is gone (any cause); the pool forgets it. */
  onExit(instance: Instance): void;
}

interface Running {
  id: number;
  requestId: string;
  startedAt: number;
  result?: Extract<FromInstance, { type: 'result' }>;
  endSeen: boolean;
  timers: NodeJS.Timeout[];
  finish(outcome: Ran): void;
}

/** How an invocation an instance took ended (throttling happens before any instance is involved). */
type Ran = Exclude<InvocationOutcome, { kind: 'throttled' }>;

export class InitFailed extends Error {
  override name = 'InitFailed';
}

/**
 * One instance process of one function, as FC runs it: one invocation at a time, frozen (SIGSTOP) between
 * invocations and thawed (SIGCONT) for the next, killed when it runs past its timeout.
 */
export class Instance {
  readonly startedAt = new Date();
  readonly ready: Promise<void>;
  /** Settles when the process has exited. */
  readonly gone: Promise<void>;
  state: InstanceInfo['state'] = 'starting';
  invocations = 0;
  exited = false;
  private readonly child: ChildProcess;
  private running: Running | undefined;
  private nextId = 0;
  private stdoutRest = '';

  constructor(private readonly spec: InstanceSpec) {
    this.child = spawn(process.execPath, [...spec.execArgv, spec.runner], {
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    // Decoded as a stream, so a character split across two reads arrives whole.
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.stdout(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => spec.onStderr(chunk));
    this.gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.on('message', (message: FromInstance) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'init-failed') {
          reject(new InitFailed(`${message.error.errorType}: ${message.error.errorMessage}`));
          this.kill();
        } else if (message.type === 'result') this.result(message);
        else if (message.type === 'shared-call') void this.answerShared(message);
      });
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        reject(new InitFailed(`the instance exited while starting (${signal ?? `code ${code}`})`));
        this.crashed(code, signal);
        spec.onExit(this);
      });
      // Spawn failures and failed signals both land here; neither may escape as an unhandled 'error' event.
      this.child.on('error', (err) => reject(new InitFailed(err.message)));
    });
    // Whoever awaits `ready` sees the failure; this keeps an unawaited one from being reported unhandled.
    this.ready.catch(() => undefined);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  info(): InstanceInfo {
    return {
      function: this.spec.functionName,
      pid: this.pid,
      state: this.state,
      invocations: this.invocations,
      startedAt: this.startedAt.toISOString(),
    };
  }

  /** Runs one invocation (thawing a frozen instance first); never rejects. */
  invoke(event: Buffer, context: FcContext, timeoutSeconds: number): Promise<Ran> {
    return new Promise((resolve) => {
      const id = ++this.nextId;
      const running: Running = {
        id,
        requestId: context.requestId,
        startedAt: Date.now(),
        endSeen: false,
        timers: [],
        finish: (outcome) => {
          if (this.running !== running) return;
          this.running = undefined;
          for (const t of running.timers) clearTimeout(t);
          resolve({ ...outcome, instanceId: this.spec.instanceId });
        },
      };
      this.running = running;
      this.state = 'busy';
      this.invocations++;
      if (this.exited) return this.crashed(null, null);
      this.thaw();
      // FC's limit on the invocation: the instance that runs past it is killed, the caller told it timed out.
      running.timers.push(
        setTimeout(() => {
          running.finish({
            kind: 'error',
            cause: 'timeout',
            error: {
              errorMessage: `Function timed out after ${timeoutSeconds} seconds`,
              errorType: 'FunctionTimeout',
            },
          });
          this.kill();
        }, timeoutSeconds * 1000),
      );
      const message: ToInstance = { type: 'invoke', id, event, context };
      this.send(message);
    });
  }

  /** Between invocations: SIGSTOP, as FC freezes an instance that has no request. */
  freeze(): void {
    if (this.exited) return;
    this.child.kill('SIGSTOP');
    this.state = 'frozen';
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private thaw(): void {
    this.child.kill('SIGCONT');
  }

  private send(message: ToInstance): void {
    if (!this.child.connected) return;
    // A failed send means the process is gone: its exit answers the invocation.
    this.child.send(message, (err) => err && undefined);
  }

  private async answerShared(message: Extract<FromInstance, { type: 'shared-call' }>): Promise<void> {
    this.send(await this.spec.shared(message));
  }

  private result(message: Extract<FromInstance, { type: 'result' }>): void {
    const running = this.running;
    if (!running || running.id !== message.id) return;
    running.result = message;
    if (running.endSeen) return this.settle(running);
    running.timers.push(setTimeout(() => this.settle(running), END_MARK_GRACE_MS));
  }

  private settle(running: Running): void {
    const r = running.result;
    if (!r) return;
    running.finish(r.ok ? { kind: 'ok', value: r.value } : { kind: 'error', error: r.error, cause: 'threw' });
  }

  private crashed(code: number | null, signal: NodeJS.Signals | null): void {
    const running = this.running;
    if (!running) return;
    const ms = Date.now() - running.startedAt;
    running.finish({
      kind: 'error',
      cause: 'crash',
      error: {
        errorMessage: `Process exited unexpectedly before completing request (duration: ${ms}ms, ${signal ? `signal: ${signal}` : `exit code: ${code}`})`,
        errorType: 'ProcessExited',
      },
    });
  }

  private stdout(chunk: string): void {
    const text = this.stdoutRest + chunk;
    const lines = text.split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith(END_MARK)) {
        const running = this.running;
        if (running && Number(line.slice(END_MARK.length)) === running.id) {
          running.endSeen = true;
          this.settle(running);
        }
        continue;
      }
      this.spec.onLine(line, this.running?.requestId);
    }
  }
}
