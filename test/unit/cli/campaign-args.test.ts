import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAMPAIGN_HELP, DEFAULT_WATCH_SECONDS, parseCampaignArgs } from '../../../cli/campaign-args.js';
import { campaign } from '../../../cli/campaign.js';
import { EXIT, UsageError } from '../../../cli/exit.js';

const io = () => {
  const out: string[] = [];
  const notes: string[] = [];
  return { out, notes, io: { out: (t: string) => void out.push(t), note: (t: string) => void notes.push(t) } };
};

describe('coupon campaign arguments', () => {
  it.each([
    [
      ['start', '--template', '7', '--file', 'l.csv'],
      { action: 'start', template: '7', file: 'l.csv', skipInvalid: false },
    ],
    [
      [
        'start',
        '--template',
        '7',
        '--file',
        'l.csv',
        '--campaign-id',
        'launch-1',
        '--seller',
        '3',
        '--from-app',
        'shop',
        '--skip-invalid',
        '--json',
      ],
      { campaignId: 'launch-1', seller: '3', fromApp: 'shop', skipInvalid: true, json: true },
    ],
    [['status', 'c1'], { action: 'status', id: 'c1', watch: false, intervalSeconds: DEFAULT_WATCH_SECONDS }],
    [['status', 'c1', '--watch', '--interval', '0.5'], { watch: true, intervalSeconds: 0.5 }],
    [['status', '--json', 'c1'], { id: 'c1', json: true }],
    [['pause', 'c1'], { action: 'pause', id: 'c1' }],
    [['resume', 'c1', '--url', 'https://x.example'], { action: 'resume', url: 'https://x.example' }],
    [['cancel', 'c1'], { action: 'cancel', id: 'c1' }],
    [['results', 'c1', '--show-uids', '--json'], { action: 'results', id: 'c1', showUids: true, json: true }],
    [['results', '--help'], { action: 'results', help: true }],
  ])('reads %j', (argv, expected) => {
    expect(parseCampaignArgs(argv)).toMatchObject(expected);
  });

  it.each([
    [[], /name an action/],
    [['launch'], /unknown action "launch"/],
    [['start', '--file', 'l.csv'], /--template is required/],
    [['start', '--template', '7'], /--file is required/],
    [['start', 'c1', '--template', '7', '--file', 'l.csv'], /start takes no operand/],
    [['status'], /status needs the campaign id/],
    [['status', 'a', 'b'], /takes one campaign id/],
    [['pause'], /pause needs the campaign id/],
    [['status', 'c1', '--watch', '--json'], /--watch and --json/],
    [['status', 'c1', '--interval', '0'], /--interval must be a number of seconds/],
    [['status', 'c1', '--interval', 'soon'], /--interval must be a number of seconds/],
    [['status', 'c1', '--interval', '61'], /--interval must be a number of seconds/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCampaignArgs(argv)).toThrow(UsageError);
    expect(() => parseCampaignArgs(argv)).toThrow(message);
  });

  it.each([
    ['status', '--template'],
    ['pause', '--watch'],
    ['results', '--file'],
    ['start', '--watch'],
  ])('refuses a flag the action does not take: %s %s', (action, flag) => {
    const argv = action === 'start' ? [action, '--template', '7', '--file', 'f', flag] : [action, 'c1', flag, 'x'];
    expect(() => parseCampaignArgs(argv)).toThrow(/Unknown option|argument/);
  });

  it('never throws anything but a usage error, whatever the arguments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('start', 'status', '--watch', '--interval', '--json'))),
        (argv) => {
          try {
            parseCampaignArgs(argv);
          } catch (err) {
            const usage = err instanceof UsageError || (err instanceof Error && 'code' in err);
            expect(usage).toBe(true);
          }
        },
      ),
    );
  });

  it('gives help for every action, with its exit table, and exits 0', async () => {
    for (const action of ['start', 'status', 'pause', 'resume', 'cancel', 'results'] as const) {
      const o = io();
      expect(await campaign([action, '--help'], {}, o.io)).toBe(EXIT.ok);
      expect(o.out.join('\n')).toBe(CAMPAIGN_HELP[action]);
      expect(CAMPAIGN_HELP[action]).toMatch(/^Usage: coupon campaign /);
      expect(CAMPAIGN_HELP[action]).toMatch(/4 {2}no campaign with that id/);
    }
    const bare = io();
    expect(await campaign([], {}, bare.io)).toBe(EXIT.usage);
    expect(bare.out.join('\n')).toBe(CAMPAIGN_HELP.main);
  });

  it('refuses a campaign id the campaign routes could never hold before any call', async () => {
    const o = io();
    await expect(campaign(['status', 'has space'], { PORT: '1' }, o.io)).rejects.toThrow(
      /1-48 characters of A-Z a-z 0-9 _ -/,
    );
    await expect(campaign(['pause', 'x'.repeat(49)], { PORT: '1' }, o.io)).rejects.toThrow(UsageError);
  });
});
