import { BlockList, isIP } from 'node:net';

/**
 * Lists of client addresses in configuration: IP addresses and CIDR ranges, IPv4 or IPv6. Names
 * are refused rather than resolved, so what is trusted never depends on DNS.
 */

/** Why an entry is not an IP address or a CIDR range; null when it is one. */
export function addressEntryProblem(entry: string): string | null {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0) return `"${entry}" is not an IP address or CIDR range (names are not resolved)`;
  if (rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)))) {
    return `"${entry}" is not a CIDR range (${family === 4 ? '0 to 32' : '0 to 128'} bits after the "/")`;
  }
  return null;
}

/** Whether an address (as a socket reports it) is in the list; IPv4-mapped IPv6 addresses count as IPv4. */
export function addressMatcher(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    if (addressEntryProblem(entry)) throw new RangeError(addressEntryProblem(entry)!);
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return (address) => {
    if (!address) return false;
    const plain = /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}
