import { describe, expect, it } from 'vitest';
import { formatBytes, shortBytes } from '../src/bytes.ts';

describe('byte counts for people', () => {
  it('short form: B under 1 KiB, then one decimal in the largest unit under 1024', () => {
    expect(shortBytes(512)).toBe('512 B');
    expect(shortBytes(1536)).toBe('1.5 KiB');
    expect(shortBytes(2053804439)).toBe('1.9 GiB');
  });
  it('long form adds the exact count', () => {
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1572864)).toBe('1.5 MiB (1572864 bytes)');
  });
});
