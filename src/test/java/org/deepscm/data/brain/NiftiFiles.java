package org.deepscm.data.brain;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

/** Builds NIfTI-1 files byte by byte for the tests, independently of {@link NiftiWriter}; every field settable. */
final class NiftiFiles {
  ByteOrder order = ByteOrder.LITTLE_ENDIAN;
  int sizeofHdr = 348;
  short[] dim = {3, 1, 1, 1, 1, 1, 1, 1};
  short datatype = 2;
  short bitpix = 8;
  float[] pixdim = {1, 1, 1, 1, 0, 0, 0, 0};
  float voxOffset = 352;
  float sclSlope = Float.NaN;
  float sclInter = Float.NaN;
  short qformCode;
  short sformCode;
  /** quatern_b, c, d, qoffset_x, y, z. */
  float[] quatern = new float[6];
  float[][] srow = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
  byte[] magic = {'n', '+', '1', 0};
  /** Bytes between the header and the voxel data (extension flag and extensions), when voxOffset is not used. */
  byte[] extension = new byte[4];
  byte[] data = new byte[1];

  static NiftiFiles of(int nx, int ny, int nz, int datatype, ByteOrder order, double... values) {
    NiftiFiles f = new NiftiFiles();
    f.order = order;
    f.dim = new short[] {3, (short) nx, (short) ny, (short) nz, 1, 1, 1, 1};
    f.datatype = (short) datatype;
    f.bitpix = (short) (8 * bytesOf(datatype));
    f.data = encode(datatype, order, values);
    return f;
  }

  static int bytesOf(int datatype) {
    return switch (datatype) {
      case 2, 256 -> 1;
      case 4, 512 -> 2;
      case 8, 16, 768 -> 4;
      case 64 -> 8;
      default -> 1;
    };
  }

  static byte[] encode(int datatype, ByteOrder order, double... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * bytesOf(datatype)).order(order);
    for (double v : values) {
      switch (datatype) {
        case 2, 256 -> b.put((byte) (long) v);
        case 4, 512 -> b.putShort((short) (long) v);
        case 8, 768 -> b.putInt((int) (long) v);
        case 16 -> b.putFloat((float) v);
        case 64 -> b.putDouble(v);
        default -> throw new IllegalArgumentException("datatype " + datatype);
      }
    }
    return b.array();
  }

  NiftiFiles sform(int code, double[][] affine) {
    sformCode = (short) code;
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        srow[r][c] = (float) affine[r][c];
      }
    }
    return this;
  }

  byte[] header() {
    ByteBuffer h = ByteBuffer.allocate(348).order(order);
    h.putInt(0, sizeofHdr);
    for (int d = 0; d < 8; d++) {
      h.putShort(40 + 2 * d, dim[d]);
    }
    h.putShort(70, datatype);
    h.putShort(72, bitpix);
    for (int d = 0; d < 8; d++) {
      h.putFloat(76 + 4 * d, pixdim[d]);
    }
    h.putFloat(108, voxOffset);
    h.putFloat(112, sclSlope);
    h.putFloat(116, sclInter);
    h.put(123, (byte) 10);
    byte[] descrip = "crafted by NiftiFiles".getBytes(StandardCharsets.US_ASCII);
    h.put(148, descrip);
    h.putShort(252, qformCode);
    h.putShort(254, sformCode);
    for (int q = 0; q < 6; q++) {
      h.putFloat(256 + 4 * q, quatern[q]);
    }
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        h.putFloat(280 + 16 * r + 4 * c, srow[r][c]);
      }
    }
    h.put(344, magic);
    return h.array();
  }

  byte[] bytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(header());
    out.writeBytes(extension);
    out.writeBytes(data);
    return out.toByteArray();
  }

  byte[] gzipped() throws IOException {
    return gzip(bytes());
  }

  static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(raw);
    }
    return bos.toByteArray();
  }
}
