// The client side of the wire shared by the shell's client and the tests' raw client: request
// bodies as jute writes them, and the splitting of a TCP byte stream into length-prefixed frames.
import { JuteWriter } from '../jute/archive';
import { ACL, writeACLs } from '../jute/records';

/** Writes one request's body (the record after the RequestHeader). */
export type BodyWriter = (w: JuteWriter) => void;

/** CreateRequest, or CreateTTLRequest when a ttl is given. */
export function createBody(path: string, data: Buffer | null, acl: ACL[] | null, flags: number, ttl?: number): BodyWriter {
  return (w) => {
    w.writeString(path);
    w.writeBuffer(data);
    writeACLs(w, acl);
    w.writeInt(flags);
    if (ttl !== undefined) w.writeLong(ttl);
  };
}
/** A request of just a path (getACL, sync, getEphemerals, getAllChildrenNumber). */
export const pathOnly = (p: string | null): BodyWriter => (w) => void w.writeString(p);
/** path + watch flag (getData, exists, getChildren). */
export const pathBool = (p: string, b: boolean): BodyWriter => (w) => {
  w.writeString(p);
  w.writeBool(b);
};
/** path + int (delete's version, addWatch's mode, removeWatches' type). */
export const pathInt = (p: string, v: number): BodyWriter => (w) => {
  w.writeString(p);
  w.writeInt(v);
};

/** Cuts a byte stream into frames: a 4-byte big-endian length, then that many bytes. */
export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);

  /** Add bytes; returns the frames they completed (copies, safe to keep). */
  push(d: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const frames: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readInt32BE(0);
      if (len < 0 || this.buf.length < 4 + len) break;
      frames.push(Buffer.from(this.buf.subarray(4, 4 + len)));
      this.buf = this.buf.subarray(4 + len);
    }
    return frames;
  }
}
