/** The emulator's built-in development key: printed at start, used when no EMULATOR_ACCESS_KEY_* is set. */
export const DEFAULT_EMULATOR_KEY_ID = 'LTAI5tLocalEmulatorKey';
export const DEFAULT_EMULATOR_KEY_SECRET = 'local-emulator-secret-not-for-production';
