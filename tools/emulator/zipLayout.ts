import { createRequire } from "node:module";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";

/** One file of a zip: its bytes can be produced again at will (read from disk or generated). */
export interface ZipSource {
  name: string;
  size: number;
  open(): Readable;
}

/** A part of the zip: fixed bytes (headers, directory) or one file's data. */
type Segment = { start: number; length: number } & ({ bytes: Buffer } | { source: ZipSource });

/** Above these a record needs its ZIP64 form (APPNOTE 4.4.8, 4.5.3). */
const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;

/**
 * Node 20.15+ has a native CRC-32 (zlib.crc32); older Node uses yazl's buffer-crc32, the same checksum in
 * JavaScript (~85 MB/s here, against GB/s).
 */
const crc32: (data: Buffer, value?: number) => number =
  (zlib as unknown as { crc32?: (data: Buffer, value?: number) => number }).crc32 ?? javascriptCrc32();

function javascriptCrc32(): (data: Buffer, value?: number) => number {
  const yazlRequire = createRequire(createRequire(import.meta.url).resolve("yazl"));
  const js = yazlRequire("buffer-crc32") as { unsigned: (data: Buffer, previous?: number) => number };
  return (data, value) => js.unsigned(data, value);
}

async function checksum(source: ZipSource): Promise<number> {
  let crc = 0;
  let length = 0;
  for await (const chunk of source.open()) {
    crc = crc32(chunk as Buffer, crc);
    length += (chunk as Buffer).length;
  }
  if (length !== source.size) throw new Error(`${source.name}: ${length} bytes, expected ${source.size}`);
  return crc;
}

function dosDateTime(date: Date): { time: number; date: number } {
  return {
    time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
    date: ((date.getFullYear() - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate(),
  };
}

/**
 * results.zip as a layout: every entry stored (not deflated: audio does not compress), with its CRC-32
 * and sizes in the local header (no data descriptors), so any byte range can be served by producing only
 * the entries it overlaps. The CRCs cost one pass over the data when the layout is built; after that, a
 * ranged read costs its own length (plus the start of the one entry it begins in). ZIP64 records are
 * written only where a size, offset or count needs them (PKWARE APPNOTE.TXT 6.3.x, sections 4.3.7–4.3.16,
 * 4.5.3).
 */
export class ZipLayout {
  private constructor(
    private readonly segments: Segment[],
    readonly size: number,
  ) {}

  static async build(sources: ZipSource[], mtime: Date, options: { forceZip64?: boolean } = {}) {
    const { time, date } = dosDateTime(mtime);
    const segments: Segment[] = [];
    const central: Buffer[] = [];
    let offset = 0;
    const push = (segment: { bytes: Buffer } | { source: ZipSource; length: number }) => {
      const length = "bytes" in segment ? segment.bytes.length : segment.length;
      segments.push({ ...segment, start: offset, length } as Segment);
      offset += length;
    };
    for (const source of sources) {
      const crc = await checksum(source);
      const name = Buffer.from(source.name, "utf8");
      const localOffset = offset;
      const zip64 = options.forceZip64 === true || source.size >= MAX_32 || localOffset >= MAX_32;
      const version = zip64 ? 45 : 20;

      const localExtra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
      if (zip64) {
        localExtra.writeUInt16LE(0x0001, 0);
        localExtra.writeUInt16LE(16, 2);
        localExtra.writeBigUInt64LE(BigInt(source.size), 4);
        localExtra.writeBigUInt64LE(BigInt(source.size), 12);
      }
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(version, 4);
      local.writeUInt16LE(0x0800, 6); // names are UTF-8
      local.writeUInt16LE(0, 8); // stored
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(zip64 ? MAX_32 : source.size, 18);
      local.writeUInt32LE(zip64 ? MAX_32 : source.size, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(localExtra.length, 28);
      push({ bytes: Buffer.concat([local, name, localExtra]) });
      push({ source, length: source.size });

      const centralExtra = zip64 ? Buffer.alloc(28) : Buffer.alloc(0);
      if (zip64) {
        centralExtra.writeUInt16LE(0x0001, 0);
        centralExtra.writeUInt16LE(24, 2);
        centralExtra.writeBigUInt64LE(BigInt(source.size), 4);
        centralExtra.writeBigUInt64LE(BigInt(source.size), 12);
        centralExtra.writeBigUInt64LE(BigInt(localOffset), 20);
      }
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(version, 4); // made by (MS-DOS attributes)
      header.writeUInt16LE(version, 6);
      header.writeUInt16LE(0x0800, 8);
      header.writeUInt16LE(0, 10);
      header.writeUInt16LE(time, 12);
      header.writeUInt16LE(date, 14);
      header.writeUInt32LE(crc, 16);
      header.writeUInt32LE(zip64 ? MAX_32 : source.size, 20);
      header.writeUInt32LE(zip64 ? MAX_32 : source.size, 24);
      header.writeUInt16LE(name.length, 28);
      header.writeUInt16LE(centralExtra.length, 30);
      // comment length, disk number, internal and external attributes: 0
      header.writeUInt32LE(zip64 ? MAX_32 : localOffset, 42);
      central.push(header, name, centralExtra);
    }
    const directory = Buffer.concat(central);
    const directoryOffset = offset;
    const count = sources.length;
    const zip64End =
      options.forceZip64 === true ||
      count >= MAX_16 ||
      directory.length >= MAX_32 ||
      directoryOffset >= MAX_32;
    const tail: Buffer[] = [directory];
    if (zip64End) {
      const record = Buffer.alloc(56);
      record.writeUInt32LE(0x06064b50, 0);
      record.writeBigUInt64LE(44n, 4); // size of the rest of this record
      record.writeUInt16LE(45, 12);
      record.writeUInt16LE(45, 14);
      // this disk, directory's disk: 0
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(directory.length), 40);
      record.writeBigUInt64LE(BigInt(directoryOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(directoryOffset + directory.length), 8);
      locator.writeUInt32LE(1, 16);
      tail.push(record, locator);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(zip64End ? MAX_16 : count, 8);
    end.writeUInt16LE(zip64End ? MAX_16 : count, 10);
    end.writeUInt32LE(zip64End ? MAX_32 : directory.length, 12);
    end.writeUInt32LE(zip64End ? MAX_32 : directoryOffset, 16);
    tail.push(end);
    push({ bytes: Buffer.concat(tail) });
    return new ZipLayout(segments, offset);
  }

  /** Bytes `start`…`end` (inclusive) of the zip, producing only the entries they overlap. */
  stream(start = 0, end = this.size - 1): Readable {
    const out = new PassThrough();
    const parts = this.segments.filter((s) => s.start + s.length > start && s.start <= end);
    const produce = async function* () {
      for (const segment of parts) {
        const from = Math.max(0, start - segment.start);
        const to = Math.min(segment.length, end + 1 - segment.start); // exclusive
        if ("bytes" in segment) {
          yield segment.bytes.subarray(from, to);
          continue;
        }
        let position = 0;
        for await (const chunk of segment.source.open()) {
          const piece = chunk as Buffer;
          const a = Math.max(0, from - position);
          const b = Math.min(piece.length, to - position);
          position += piece.length;
          if (a < b) yield piece.subarray(a, b);
          if (position >= to) break;
        }
      }
    };
    pipeline(Readable.from(produce(), { objectMode: false }), out).catch((error: Error) =>
      out.destroy(error),
    );
    return out;
  }
}
