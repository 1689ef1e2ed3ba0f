// Executables recognised by their first bytes, to be refused whatever their name or declared type.

const startsWith = (head: Buffer, magic: readonly number[]): boolean =>
  head.length >= magic.length && magic.every((byte, index) => head[index] === byte);

/**
 * Executable formats by magic bytes. Fat (universal) Mach-O shares CA FE BA BE with Java class
 * files; the next big-endian u32 is the architecture count for Mach-O but minor<<16|major version
 * for Java, whose major versions start at 45 (JDK 1.0). So a count of 1..44 is Mach-O.
 * Note that `MZ` alone is the DOS/PE signature, so a text file that starts with "MZ" is flagged too;
 * we accept that rare false positive rather than let a crafted PE through.
 */
export function isExecutable(head: Buffer): boolean {
  if (startsWith(head, [0x4d, 0x5a])) return true; // MZ: DOS and PE (Windows)
  if (startsWith(head, [0x7f, 0x45, 0x4c, 0x46])) return true; // \x7fELF
  const machO = [
    [0xfe, 0xed, 0xfa, 0xce], // 32-bit, big-endian
    [0xfe, 0xed, 0xfa, 0xcf], // 64-bit, big-endian
    [0xce, 0xfa, 0xed, 0xfe], // 32-bit, little-endian
    [0xcf, 0xfa, 0xed, 0xfe], // 64-bit, little-endian
  ];
  if (machO.some((magic) => startsWith(head, magic))) return true;
  if (startsWith(head, [0xca, 0xfe, 0xba, 0xbe]) || startsWith(head, [0xca, 0xfe, 0xba, 0xbf])) {
    if (head.length < 8) return false;
    const architectures = head.readUInt32BE(4);
    return architectures >= 1 && architectures < 45;
  }
  return false;
}
