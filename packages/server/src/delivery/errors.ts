import { HookwardenError } from '@hookwarden/verify/errors';

/**
 * Errors of the delivery concern: endpoint URLs refused at creation (`HW_ENDPOINT_URL_*`), invalid
 * client options (`HW_DELIVERY_OPTIONS_INVALID`), and the guard's refusals raised while connecting.
 */
export class DeliveryError extends HookwardenError {
  override readonly name: string = 'DeliveryError';
}

export function invalidOption(field: string, why: string): DeliveryError {
  return new DeliveryError('HW_DELIVERY_OPTIONS_INVALID', `delivery option '${field}' ${why}`, { status: 500 });
}
