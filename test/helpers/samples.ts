// Small, real samples of file formats, built byte by byte for the tests.
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG chunk: length, type, data, CRC over type and data (PNG spec §5.3). */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A valid RGB PNG of the given size, every pixel red. */
export function png(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type: truecolour
  // Each scanline: filter type 0, then RGB triples.
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, Buffer.from([255, 0, 0]))]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(pixels)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** GIF89a header and logical screen descriptor, then the trailer. */
export function gif(width: number, height: number): Buffer {
  const screen = Buffer.alloc(7);
  screen.writeUInt16LE(width, 0);
  screen.writeUInt16LE(height, 2);
  return Buffer.concat([Buffer.from("GIF89a", "latin1"), screen, Buffer.from([0x3b])]);
}

/** SOI, a JFIF APP0 segment, a baseline SOF0 frame header, EOI. */
export function jpeg(width: number, height: number): Buffer {
  const app0 = Buffer.from([
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  ]);
  const sof0 = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    0x01,
    0x22,
    0x00,
    0x02,
    0x11,
    0x01,
    0x03,
    0x11,
    0x01,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0, Buffer.from([0xff, 0xd9])]);
}

/** A DOS header whose e_lfanew points at a PE signature and an x86-64 COFF header. */
export function peStub(): Buffer {
  const file = Buffer.alloc(256);
  file.write("MZ", 0, "latin1");
  file.writeUInt16LE(0x90, 2);
  file.writeUInt32LE(0x40, 0x3c); // e_lfanew
  file.write("PE\0\0", 0x40, "latin1");
  file.writeUInt16LE(0x8664, 0x44); // Machine: AMD64
  return file;
}

/** An ELF64 little-endian executable header. */
export function elf(): Buffer {
  const file = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]).copy(file);
  file.writeUInt16LE(2, 16); // e_type: ET_EXEC
  file.writeUInt16LE(0x3e, 18); // e_machine: x86-64
  return file;
}

/** A 64-bit little-endian Mach-O header (MH_MAGIC_64 as stored on disk). */
export function machO64(): Buffer {
  const file = Buffer.alloc(32);
  Buffer.from([0xcf, 0xfa, 0xed, 0xfe]).copy(file);
  file.writeUInt32LE(0x01000007, 4); // CPU_TYPE_X86_64
  file.writeUInt32LE(2, 12); // MH_EXECUTE
  return file;
}

/** A universal (fat) Mach-O header listing `architectures` slices. */
export function fatMachO(architectures: number): Buffer {
  const file = Buffer.alloc(8 + architectures * 20);
  file.writeUInt32BE(0xcafebabe, 0);
  file.writeUInt32BE(architectures, 4);
  return file;
}

/** A Java class file header: CAFEBABE, minor 0, major 52 (Java 8), then a constant pool count. */
export function javaClass(): Buffer {
  return Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0x00, 0x10, 0x0a, 0x00, 0x03, 0x00, 0x0d]);
}

export const utf8 = (text: string): Buffer => Buffer.from(text, "utf8");

/**
 * Random bytes for an upload's content. The first byte is zero so that no run starts with a magic
 * number the server refuses or sniffs (one random buffer in 65,536 starts with `MZ`, an executable).
 */
export function randomContent(size: number): Buffer<ArrayBuffer> {
  const bytes = randomBytes(size);
  if (size > 0) bytes[0] = 0;
  return bytes;
}
