import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The system's Chromium (Debian's `chromium` package); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

/**
 * Headless Chromium with the flags a sandboxed CI machine needs: no sandbox (no user namespaces there), no GPU,
 * no /dev/shm (often tiny in containers), nothing fetched in the background. Playwright gives every launch a
 * fresh, temporary user-data dir, removed when the browser closes.
 */
export async function launchChromium(executablePath = CHROMIUM): Promise<Browser> {
  if (!existsSync(executablePath))
    throw new Error(
      `the browser tests need Chromium at ${executablePath}, and there is none: install it (apt-get install chromium) or set CHROMIUM_PATH to a Chromium binary`,
    );
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--metrics-recording-only',
    ],
  });
}
