import { startEmulator } from './local/emulator/server.ts';
const e = await startEmulator({ accessKeyId: 'k', accessKeySecret: 's', port: 9311 });
console.log('ready', e.url);
