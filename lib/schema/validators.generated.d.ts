/** Types of the standalone validators that scripts/compile-schemas.ts generates. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  schemaPath: string;
  message?: string;
}

export interface StandaloneValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

export declare const validateFlat: StandaloneValidator;
export declare const validateEnvelope: StandaloneValidator;
export declare const validateRecipient: StandaloneValidator;
