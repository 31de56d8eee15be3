package org.deepscm.data.brain;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a 3-D uint8 (or float32) volume as a single-file NIfTI-1 image, little-endian, voxel data at byte 352, no scaling
 * (scl_slope 1, scl_inter 0), the affine as the sform with the given code and the qform unset (qform_code 0: the
 * standard then takes the sform, and a qform could not hold a sheared affine anyway).
 *
 * <p>A name ending in ".gz" is gzipped. The output is byte-for-byte reproducible: GZIPOutputStream writes a fixed
 * 10-byte header with modification time 0 and no file name, and the header holds no date either, so the same
 * volume always gives the same file (and the same checksum in the repository).
 */
public final class NiftiWriter {
  /** sform_code 1: scanner-based anatomical coordinates. */
  public static final int SFORM_SCANNER = 1;
  /** sform_code 2: coordinates aligned to another file or an anatomical truth. */
  public static final int SFORM_ALIGNED = 2;
  /** sform_code 3: Talairach-Tournoux coordinates. */
  public static final int SFORM_TALAIRACH = 3;
  /** sform_code 4: MNI 152 coordinates (the Colin27 template and what is cut from it). */
  public static final int SFORM_MNI = 4;

  private NiftiWriter() {}

  /** Writes with sform_code {@link #SFORM_SCANNER}. */
  public static void write(Path file, int nx, int ny, int nz, double[] voxelSizeMm, double[][] affine,
      byte[] uint8Data) throws IOException {
    write(file, nx, ny, nz, voxelSizeMm, affine, uint8Data, SFORM_SCANNER);
  }

  /**
   * Writes {@code uint8Data} (values 0..255 as bytes, i fastest, then j, then k) with the given voxel size (pixdim,
   * mm), 4x4 voxel-to-world affine (last row 0 0 0 1) and sform code 1..4.
   */
  public static void write(Path file, int nx, int ny, int nz, double[] voxelSizeMm, double[][] affine,
      byte[] uint8Data, int sformCode) throws IOException {
    validate(nx, ny, nz, voxelSizeMm, affine, uint8Data == null ? -1 : uint8Data.length, sformCode);
    writeFile(file, header(nx, ny, nz, voxelSizeMm, affine, sformCode, (short) 2, (short) 8), uint8Data);
  }

  /**
   * Writes {@code values} as float32 (datatype 16; i fastest, then j, then k; no scaling), e.g. a map of grey
   * levels that are not whole numbers, otherwise as {@link #write(Path, int, int, int, double[], double[][],
   * byte[], int)}.
   *
   * @throws IllegalArgumentException for a non-finite value, or as the uint8 writer
   */
  public static void writeFloat32(Path file, int nx, int ny, int nz, double[] voxelSizeMm, double[][] affine,
      float[] values, int sformCode) throws IOException {
    validate(nx, ny, nz, voxelSizeMm, affine, values == null ? -1 : values.length, sformCode);
    ByteBuffer data = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      if (!Float.isFinite(v)) {
        throw new IllegalArgumentException("a float32 NIfTI written here holds finite values only, got " + v);
      }
      data.putFloat(v);
    }
    writeFile(file, header(nx, ny, nz, voxelSizeMm, affine, sformCode, (short) 16, (short) 32), data.array());
  }

  /** The 352-byte header (348 and the empty extension flag) for the given datatype code and bits per voxel. */
  private static ByteBuffer header(int nx, int ny, int nz, double[] voxelSizeMm, double[][] affine, int sformCode,
      short datatype, short bitpix) {
    ByteBuffer h = ByteBuffer.allocate(NiftiVolume.MIN_DATA_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0, NiftiVolume.HEADER_BYTES);
    h.put(38, (byte) 'r'); // "regular", as nibabel and FSL write it
    short[] dim = {3, (short) nx, (short) ny, (short) nz, 1, 1, 1, 1};
    for (int d = 0; d < 8; d++) {
      h.putShort(40 + 2 * d, dim[d]);
    }
    h.putShort(70, datatype); // 2: uint8, 16: float32
    h.putShort(72, bitpix);
    float[] pixdim = {1, (float) voxelSizeMm[0], (float) voxelSizeMm[1], (float) voxelSizeMm[2], 1, 1, 1, 1};
    for (int d = 0; d < 8; d++) {
      h.putFloat(76 + 4 * d, pixdim[d]);
    }
    h.putFloat(108, NiftiVolume.MIN_DATA_OFFSET);
    h.putFloat(112, 1f);
    h.putFloat(116, 0f);
    h.put(123, (byte) 2); // xyzt_units: millimetres, no time unit
    byte[] descrip = "DeepSCM Explorer".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < descrip.length; i++) {
      h.put(148 + i, descrip[i]);
    }
    h.putShort(252, (short) 0);
    h.putShort(254, (short) sformCode);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        h.putFloat(280 + 16 * r + 4 * c, (float) affine[r][c]);
      }
    }
    h.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1').put(347, (byte) 0);
    // bytes 348..351: the extension flag, all zero (no extensions)
    return h;
  }

  private static void writeFile(Path file, ByteBuffer h, byte[] data) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".part");
    try {
      try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
          OutputStream out = file.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(raw, 1 << 16)
              : raw) {
        out.write(h.array());
        out.write(data);
      }
      // A reader never sees half a file, and a failed write leaves the old one in place.
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** @param voxels how many voxel values are given (-1: none) */
  private static void validate(int nx, int ny, int nz, double[] voxelSizeMm, double[][] affine, int voxels,
      int sformCode) {
    if (nx < 1 || ny < 1 || nz < 1 || nx > Short.MAX_VALUE || ny > Short.MAX_VALUE || nz > Short.MAX_VALUE) {
      throw new IllegalArgumentException("dims " + nx + "x" + ny + "x" + nz + ": each must be 1.." + Short.MAX_VALUE);
    }
    if (voxels != (long) nx * ny * nz) {
      throw new IllegalArgumentException("dims " + nx + "x" + ny + "x" + nz + " need " + (long) nx * ny * nz
          + " voxel values, got " + (voxels < 0 ? "none" : voxels));
    }
    if (voxelSizeMm == null || voxelSizeMm.length != 3) {
      throw new IllegalArgumentException("voxelSizeMm needs 3 values (x, y, z)");
    }
    for (double v : voxelSizeMm) {
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException("voxel sizes must be positive millimetres, got " + v);
      }
    }
    if (affine == null || affine.length != 4) {
      throw new IllegalArgumentException("the affine must be 4x4");
    }
    for (int r = 0; r < 4; r++) {
      if (affine[r] == null || affine[r].length != 4) {
        throw new IllegalArgumentException("the affine must be 4x4");
      }
      for (double v : affine[r]) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("the affine holds a non-finite value: " + v);
        }
      }
    }
    if (affine[3][0] != 0 || affine[3][1] != 0 || affine[3][2] != 0 || affine[3][3] != 1) {
      throw new IllegalArgumentException("the affine's last row must be 0 0 0 1");
    }
    double det = affine[0][0] * (affine[1][1] * affine[2][2] - affine[1][2] * affine[2][1])
        - affine[0][1] * (affine[1][0] * affine[2][2] - affine[1][2] * affine[2][0])
        + affine[0][2] * (affine[1][0] * affine[2][1] - affine[1][1] * affine[2][0]);
    if (det == 0) {
      throw new IllegalArgumentException("the affine is singular");
    }
    if (sformCode < SFORM_SCANNER || sformCode > SFORM_MNI) {
      throw new IllegalArgumentException("sform code " + sformCode + ": must be 1 (scanner), 2 (aligned), "
          + "3 (Talairach) or 4 (MNI)");
    }
  }
}
