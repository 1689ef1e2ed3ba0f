import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { type Sha256, Sha256Workers } from "./sha256.js";

const MiB = 1024 * 1024;
const expected = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/** Feeds `bytes` in chunks of `size`, each only after the previous update said it may. */
async function feed(hash: Sha256, bytes: Buffer, size: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += size) {
    await new Promise<void>((resolve, reject) =>
      hash.update(bytes.subarray(at, at + size), (error) => (error ? reject(error) : resolve())),
    );
  }
}

describe("Sha256Workers", () => {
  const workers = new Sha256Workers({ threads: 2 });
  afterAll(() => workers.close());

  it("hashes a stream of many slabs to the same SHA-256 as hashing it whole", async () => {
    const bytes = randomBytes(9 * MiB + 12_345);
    const hash = workers.stream();
    await feed(hash, bytes, 65_536 + 7);
    expect(await hash.digest()).toBe(expected(bytes));
  });

  it("hashes a stream of exactly one slab", async () => {
    const bytes = randomBytes(MiB);
    const hash = workers.stream();
    await feed(hash, bytes, 65_536);
    expect(await hash.digest()).toBe(expected(bytes));
  });

  it("hashes streams whose sizes straddle the first slab's growth steps", async () => {
    for (const size of [64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 300_000, MiB - 1, MiB + 1]) {
      const bytes = randomBytes(size);
      const hash = workers.stream();
      await feed(hash, bytes, 50_000);
      expect(await hash.digest()).toBe(expected(bytes));
    }
  });

  it("hashes a stream smaller than a slab, and an empty one", async () => {
    const small = randomBytes(1000);
    const hash = workers.stream();
    await feed(hash, small, 100);
    expect(await hash.digest()).toBe(expected(small));
    expect(await workers.stream().digest()).toBe(expected(Buffer.alloc(0)));
  });

  it("hashes a stream right whichever size it was expected to have", async () => {
    const cases: [expectedBytes: number, size: number][] = [
      [4096, 4096],
      [4096, 3 * MiB],
      [3 * MiB, 1000],
    ];
    for (const [expectedBytes, size] of cases) {
      const bytes = randomBytes(size);
      const hash = workers.stream(expectedBytes);
      await feed(hash, bytes, 65_536);
      expect(await hash.digest()).toBe(expected(bytes));
    }
  });

  it("keeps concurrent streams apart", async () => {
    const inputs = [randomBytes(3 * MiB), randomBytes(5 * MiB), randomBytes(2 * MiB + 1)];
    const digests = await Promise.all(
      inputs.map(async (bytes) => {
        const hash = workers.stream();
        await feed(hash, bytes, 65_536);
        return hash.digest();
      }),
    );
    expect(digests).toEqual(inputs.map(expected));
  });

  it("holds an update back while every slab of the stream is with the worker", async () => {
    const bytes = randomBytes(8 * MiB);
    const hash = workers.stream();
    let synchronous = true;
    let completedAtOnce = 0;
    const finished = new Promise<void>((resolve) => {
      const next = (i: number): void => {
        if (i === 8) {
          resolve();
          return;
        }
        hash.update(bytes.subarray(i * MiB, (i + 1) * MiB), () => {
          if (synchronous) completedAtOnce += 1;
          next(i + 1);
        });
      };
      next(0);
    });
    synchronous = false;
    expect(completedAtOnce).toBeLessThan(8);
    await finished;
    expect(await hash.digest()).toBe(expected(bytes));
  });

  it("fails a stream being hashed when the workers are closed", async () => {
    const own = new Sha256Workers({ threads: 1 });
    const hash = own.stream();
    await feed(hash, randomBytes(2 * MiB), MiB);
    await own.close();
    await expect(hash.digest()).rejects.toThrow(/closed/);
  });
});
