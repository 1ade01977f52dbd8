import { isIP } from 'node:net';
import { optionError } from './errors.ts';
import { KEY_TYPES, type KeyType } from './keys.ts';

/** Option checks shared by every entry point: each names the field it rejects. */

export function checkKeyType(v: unknown, field = 'keyType'): KeyType {
  if (v === undefined) return 'ec-p256';
  if (typeof v !== 'string' || !(KEY_TYPES as readonly string[]).includes(v)) {
    throw optionError(field, `must be one of ${KEY_TYPES.join(', ')}`);
  }
  return v as KeyType;
}

export function checkDays(v: unknown, fallback: number, field = 'validityDays'): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 36_500) {
    throw optionError(field, 'must be a whole number of days between 1 and 36500');
  }
  return v;
}

export function checkNow(v: unknown, field = 'now'): () => Date {
  if (v === undefined) return () => new Date();
  if (typeof v !== 'function') throw optionError(field, 'must be a function returning a Date');
  return () => {
    const d = (v as () => unknown)();
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw optionError(field, 'must return a valid Date');
    return d;
  };
}

export function checkDate(v: unknown, field: string): Date | undefined {
  if (v === undefined) return undefined;
  if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw optionError(field, 'must be a valid Date');
  return v;
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);

export function checkDnsNames(v: unknown, allowWildcard: boolean, field = 'dnsNames'): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw optionError(field, 'must be an array of host names');
  return v.map((name, i) => {
    if (typeof name !== 'string' || name.length > 253 || !DNS_NAME.test(name)) {
      throw optionError(`${field}[${i}]`, `'${String(name)}' is not a DNS name`);
    }
    if (name.startsWith('*.') && !allowWildcard) {
      throw optionError(`${field}[${i}]`, 'wildcards make no sense in a client certificate: name the host');
    }
    return name.toLowerCase();
  });
}

export function checkIps(v: unknown, field = 'ipAddresses'): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw optionError(field, 'must be an array of IP addresses');
  return v.map((ip, i) => {
    if (typeof ip !== 'string' || isIP(ip) === 0) throw optionError(`${field}[${i}]`, `'${String(ip)}' is not an IP`);
    return ip;
  });
}

export function checkUsage(v: unknown): 'client' | 'server' | 'ca' {
  if (v === undefined) return 'client';
  if (v !== 'client' && v !== 'server' && v !== 'ca') throw optionError('usage', "must be 'client', 'server' or 'ca'");
  return v;
}

export function checkPathLength(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 8) {
    throw optionError('pathLength', 'must be a whole number from 0 to 8');
  }
  return v;
}

export function checkObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw optionError(field, 'options object required');
  return v as Record<string, unknown>;
}
