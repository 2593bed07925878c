/** Types of the standalone validators that scripts/compile-schemas.ts generates. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: { xMessage?: string };
}

export interface StandaloneValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

export declare const validateFlat: StandaloneValidator;
export declare const validateEnvelope: StandaloneValidator;
