/** The emulator's record of every coupon it issued. Ids are kept as digit strings end to end. */
export interface Coupon {
  youhuiId: string;
  sellerId: string;
  templateId: string;
  uid: string;
  amount: number;
  requestId: string;
  fromApp: string;
  createdAt: string;
}

export class Ledger {
  private coupons: Coupon[] = [];
  private next: bigint;

  constructor(private readonly firstId: bigint) {
    this.next = firstId;
  }

  issue(entry: Omit<Coupon, 'youhuiId' | 'createdAt'>): Coupon {
    const { sellerId, templateId, uid, amount, requestId, fromApp } = entry;
    const coupon: Coupon = {
      youhuiId: (this.next++).toString(),
      sellerId,
      templateId,
      uid,
      amount,
      requestId,
      fromApp,
      createdAt: new Date().toISOString(),
    };
    this.coupons.push(coupon);
    return coupon;
  }

  list(): readonly Coupon[] {
    return this.coupons;
  }

  reset(): void {
    this.coupons = [];
    this.next = this.firstId;
  }
}
