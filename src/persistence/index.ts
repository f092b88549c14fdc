export * from './util';
export * from './txnlog';
export * from './snapshot';
export * from './filetxnsnaplog';
export { SnappyFramer, snappyStreamDecode, snappyUncompress, snappyCompress, snappyCompressLiteral, SNAPPY_MAGIC } from './snappy';
