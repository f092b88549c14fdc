export * from './util';
export * from './txnlog';
export * from './snapshot';
export * from './filetxnsnaplog';
export { SnappyFramer, snappyStreamDecode, snappyUncompress, snappyCompressLiteral, SNAPPY_MAGIC } from './snappy';
