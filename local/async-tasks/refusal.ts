/** A refusal by the gateway itself, answered in FC's error shape: `Code`, `Message`, `RequestId`, and the header. */
export class FcRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalidArgument = (message: string) => new FcRefusal(400, 'InvalidArgument', message);
