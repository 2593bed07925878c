/**
 * FC's record of an asynchronous invocation sent to a destination (what MNS, RocketMQ and function targets
 * receive). Locally every configured destination is a list the gateway keeps, per function and condition.
 */
export interface DestinationRecord {
  timestamp: number;
  requestContext: {
    requestId: string;
    functionArn: string;
    /** Why it went there: `UnhandledInvocationError` (retries used up), `EventExpired`, or `` on success. */
    condition: string;
    approximateInvokeCount: number;
  };
  requestPayload: string;
  responseContext: { statusCode: number; functionError: string };
  responsePayload: string;
}

export type DestinationKind = 'onFailure' | 'onSuccess';

export interface DestinationList {
  destination: string;
  records: DestinationRecord[];
}

export class Destinations {
  private readonly lists = new Map<string, Partial<Record<DestinationKind, DestinationList>>>();

  add(functionName: string, kind: DestinationKind, destination: string, record: DestinationRecord): void {
    const lists = this.lists.get(functionName) ?? {};
    const list = (lists[kind] ??= { destination, records: [] });
    // PutAsyncInvokeConfig may point the function elsewhere: the list shows the destination of its latest record.
    list.destination = destination;
    list.records.push(record);
    this.lists.set(functionName, lists);
  }

  of(functionName: string): Partial<Record<DestinationKind, DestinationList>> {
    return this.lists.get(functionName) ?? {};
  }
}
