import type { GuardrailSettings } from '../config.js';
import type { Operation, Recipient } from '../operation.js';
import { budgetDay } from './budget-day.js';
import { fromCents, toCents } from './cents.js';
import type { BudgetLedger, ReservationRef } from './ledger.js';

/** Why a guardrail keeps something from being sent: a stable Code (docs/configuration.md) and what to do about it. */
export interface GuardrailRefusal {
  code: 'Guardrail.OperationAmount' | 'Guardrail.TemplateNotAllowed' | 'Guardrail.DailyBudget';
  message: string;
  /** Guardrail.DailyBudget: the day's used total the ledger answered with (for the operation's metric line). */
  usedCents?: number;
}

export const centsOf = (recipients: readonly Recipient[]): number =>
  recipients.reduce((sum, r) => sum + toCents(r.amount), 0);

/** The limits that hold for an operation as a whole, whatever has been spent: checked before anything is sent. */
export function operationRefusal(op: Operation, settings: GuardrailSettings): GuardrailRefusal | undefined {
  if (settings.templateAllowlist && !settings.templateAllowlist.has(op.templateId.digits)) {
    return {
      code: 'Guardrail.TemplateNotAllowed',
      message: `template ${op.templateId.digits} is not in TEMPLATE_ALLOWLIST; nothing was sent`,
    };
  }
  const cents = settings.maxOperationCents === undefined ? 0 : centsOf(op.recipients);
  if (settings.maxOperationCents !== undefined && cents > settings.maxOperationCents) {
    return {
      code: 'Guardrail.OperationAmount',
      message: `the operation totals ${fromCents(cents)}, above MAX_OPERATION_AMOUNT ${fromCents(settings.maxOperationCents)}; nothing was sent`,
    };
  }
  return undefined;
}

/** Budget days are kept two days, so a delivery that straddles midnight still releases into the day it reserved. */
const DAY_KEEP_MS = 2 * 24 * 60 * 60 * 1000;

/**
 * A chunk's reservation against one seller's budget for one day: released into the same day, whatever the time
 * then, and only by the delivery that holds it.
 */
export interface Reservation {
  key: string;
  day: string;
  ref: ReservationRef;
  cents: number;
  /** Once granted: the day's used total the ledger answered with, this reservation included. */
  usedCents?: number;
}

/**
 * DAILY_BUDGET per seller per calendar day in BUDGET_TIMEZONE. A chunk reserves its amount before it goes out;
 * what a send proves was not issued is released; SENT and UNKNOWN stay counted. Without DAILY_BUDGET nothing
 * is counted and no store is touched.
 */
export class DailyBudget {
  constructor(
    private readonly ledger: BudgetLedger,
    private readonly settings: GuardrailSettings,
    private readonly now: () => number,
  ) {}

  get enabled(): boolean {
    return this.settings.dailyBudgetCents !== undefined;
  }

  private refusal(day: string, usedCents: number, cents: number): GuardrailRefusal {
    const limit = this.settings.dailyBudgetCents ?? 0;
    return {
      code: 'Guardrail.DailyBudget',
      usedCents,
      message: `DAILY_BUDGET ${fromCents(limit)} for ${day} (${this.settings.budgetTimeZone}) has ${fromCents(Math.max(0, limit - usedCents))} left and this needs ${fromCents(cents)}; not sent: it is sent when the same request is delivered again within the budget`,
    };
  }

  /**
   * The reservation a chunk is about to make, fixed to today: what `reserve` asks for, and what is given back if
   * the reply to it is lost. Without DAILY_BUDGET it counts nothing.
   */
  plan(sellerId: string, cents: number, ref: ReservationRef): Reservation {
    // Without a budget no day is worked out: time zone data costs cold start (lib/config.ts).
    if (!this.enabled) return { key: '', day: '', ref, cents: 0 };
    const day = budgetDay(this.now(), this.settings.budgetTimeZone);
    return { key: `${sellerId}:${day}`, day, ref, cents };
  }

  /** Safe to repeat: a chunk is counted once however often its reservation is asked for. */
  async reserve(planned: Reservation): Promise<Reservation | GuardrailRefusal> {
    const limit = this.settings.dailyBudgetCents;
    if (limit === undefined || planned.cents === 0) return planned;
    const { granted, usedCents } = await this.ledger.reserve(
      planned.key,
      planned.ref,
      planned.cents,
      limit,
      DAY_KEEP_MS,
    );
    return granted ? { ...planned, usedCents } : this.refusal(planned.day, usedCents, planned.cents);
  }

  /** Gives the reservation back at most once; true when this call did. Safe to repeat. */
  async release(reservation: Reservation): Promise<boolean> {
    return reservation.cents > 0 ? this.ledger.release(reservation.key, reservation.ref) : false;
  }

  /** What is left of today's budget for this seller, in cents; undefined without DAILY_BUDGET. */
  async remaining(sellerId: string): Promise<number | undefined> {
    const limit = this.settings.dailyBudgetCents;
    if (limit === undefined) return undefined;
    const day = budgetDay(this.now(), this.settings.budgetTimeZone);
    return Math.max(0, limit - (await this.ledger.used(`${sellerId}:${day}`)));
  }

  /** For a dry run: would `cents` fit today, without reserving anything. */
  async check(sellerId: string, cents: number): Promise<GuardrailRefusal | undefined> {
    const limit = this.settings.dailyBudgetCents;
    if (limit === undefined) return undefined;
    const day = budgetDay(this.now(), this.settings.budgetTimeZone);
    const used = await this.ledger.used(`${sellerId}:${day}`);
    return used + cents > limit ? this.refusal(day, used, cents) : undefined;
  }
}

export const isRefusal = (r: Reservation | GuardrailRefusal): r is GuardrailRefusal => 'code' in r;
