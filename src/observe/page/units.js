/**
 * Byte counts in binary units (1 KiB = 1024 B), one way for the whole observer: the page loads
 * this file as it is, and the terminal (src/observe/text.ts) imports it.
 * @param {number} n
 * @returns {string}
 */
export function humanBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
