package org.deepscm.data.brain;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.apache.commons.math3.linear.SingularValueDecomposition;

/**
 * One 3-D scalar volume read from a single-file NIfTI-1 image ({@code .nii}, or gzipped {@code .nii.gz}; gzip is
 * told by its magic bytes 1f 8b, not by the name). Immutable.
 *
 * <p>What is read: both byte orders (told by sizeof_hdr = 348 read either way); datatypes uint8, int8, int16,
 * uint16, int32, uint32, float32, float64; voxels scaled by scl_slope and scl_inter as the standard says (a slope of
 * 0 or not finite means no scaling, as in nibabel; a non-finite intercept with a valid slope counts as 0); voxel
 * data from vox_offset, where a vox_offset below 352 in an "n+1" file counts as 352 (the Colin27 template has 0
 * there; nibabel reads it the same way). Values are held as float32, so int32 and float64 voxels beyond 2^24 in
 * magnitude are rounded.
 *
 * <p>The voxel-to-world affine follows the standard's three methods: the sform if sform_code &gt; 0, else the
 * qform (quaternion, qfac in pixdim[0]) if qform_code &gt; 0, else plain pixdim scaling, x = pixdim[1]*i,
 * y = pixdim[2]*j, z = pixdim[3]*k, with no offset ({@link #affineSource()} says which). Note that nibabel's
 * fallback differs (it centres the volume and flips x, the Analyze convention); files without sform or qform
 * carry no reliable world position anyway. As in the reference C library (nifti1_io), a pixdim that is 0 or not
 * finite counts as 1 mm in the pixdim method, and a non-positive one as 1 mm in the qform.
 *
 * <p>Refused, each with a {@link NiftiFormatException} that names the file and the problem: a truncated header
 * or data, a wrong magic or sizeof_hdr (NIfTI-2 included), header/image pairs (magic "ni1"), dims that disagree
 * with the file size, dim[0] outside 1..7 or a size below 1, a 4-D (or higher) series of more than one volume,
 * volumes over {@link #MAX_VOXELS} voxels (checked before anything is allocated), unsupported datatypes, NaN or
 * infinite voxels after scaling, a singular or non-finite affine, and a corrupt gzip stream.
 */
public final class NiftiVolume {
  /** Larger volumes are refused, so that a corrupt header never allocates gigabytes (512 Mi voxels). */
  public static final long MAX_VOXELS = 512L * 1024 * 1024;

  static final int HEADER_BYTES = 348;
  /** The header plus the 4-byte extension flag: the earliest that voxel data can start in an "n+1" file. */
  static final int MIN_DATA_OFFSET = 352;

  /** Data are read in pieces of this size (a multiple of every element size, so no element straddles two). */
  private static final int CHUNK_BYTES = 1 << 24;
  /** Below this, a column of the affine counts as zero and the matrix as singular (relative to its scale). */
  private static final double SINGULAR_TOLERANCE = 1e-9;
  /** Sampling points this close (in voxels) outside the volume still count as on its edge. */
  private static final double EDGE_TOLERANCE = 1e-6;

  private enum Datatype {
    UINT8(2, "uint8", 1), INT16(4, "int16", 2), INT32(8, "int32", 4), FLOAT32(16, "float32", 4),
    FLOAT64(64, "float64", 8), INT8(256, "int8", 1), UINT16(512, "uint16", 2), UINT32(768, "uint32", 4);

    final int code;
    final String label;
    final int bytes;

    Datatype(int code, String label, int bytes) {
      this.code = code;
      this.label = label;
      this.bytes = bytes;
    }

    static Datatype of(int code) {
      for (Datatype d : values()) {
        if (d.code == code) {
          return d;
        }
      }
      return null;
    }
  }

  private final Path file;
  private final int nx;
  private final int ny;
  private final int nz;
  private final double[] voxelSizeMm;
  private final double[][] affine;
  /** Rows 0..2 of the inverse affine (world -> voxel). */
  private final double[][] inverse;
  private final String affineSource;
  private final String orientation;
  private final float[] data;
  private final String datatypeName;

  private NiftiVolume(Path file, int nx, int ny, int nz, double[] voxelSizeMm, double[][] affine, double[][] inverse,
      String affineSource, float[] data, String datatypeName) {
    this.file = file;
    this.nx = nx;
    this.ny = ny;
    this.nz = nz;
    this.voxelSizeMm = voxelSizeMm;
    this.affine = affine;
    this.inverse = inverse;
    this.affineSource = affineSource;
    this.orientation = axisCodes(affine);
    this.data = data;
    this.datatypeName = datatypeName;
  }

  /** Reads a single-file NIfTI-1 volume, plain or gzipped. */
  public static NiftiVolume read(Path file) throws IOException {
    try (InputStream in = open(file)) {
      return parse(file, in);
    } catch (ZipException | EOFException e) {
      // Our own reads never throw EOFException (they count short reads), so these come from the gzip layer.
      throw new NiftiFormatException(file, "corrupt or truncated gzip stream", e);
    }
  }

  private static InputStream open(Path file) throws IOException {
    InputStream raw;
    try {
      raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    } catch (NoSuchFileException e) {
      throw new IOException(file + ": no such file", e);
    }
    try {
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        return new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
      }
      return raw;
    } catch (IOException e) {
      raw.close();
      throw e;
    }
  }

  private static NiftiVolume parse(Path file, InputStream in) throws IOException {
    byte[] hdr = in.readNBytes(HEADER_BYTES);
    if (hdr.length < 4) {
      throw new NiftiFormatException(file, "truncated header: the file holds " + hdr.length
          + " bytes, a NIfTI-1 header needs " + HEADER_BYTES);
    }
    int sizeLe = ByteBuffer.wrap(hdr, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    int sizeBe = ByteBuffer.wrap(hdr, 0, 4).order(ByteOrder.BIG_ENDIAN).getInt();
    ByteOrder order;
    if (sizeLe == HEADER_BYTES) {
      order = ByteOrder.LITTLE_ENDIAN;
    } else if (sizeBe == HEADER_BYTES) {
      order = ByteOrder.BIG_ENDIAN;
    } else if (sizeLe == 540 || sizeBe == 540) {
      throw new NiftiFormatException(file, "a NIfTI-2 file (sizeof_hdr 540); only NIfTI-1 is read: convert it, "
          + "e.g. with nibabel's Nifti1Image");
    } else {
      throw new NiftiFormatException(file, "not a NIfTI-1 file: sizeof_hdr is " + sizeLe + " (byte-swapped "
          + sizeBe + "), expected 348");
    }
    if (hdr.length < HEADER_BYTES) {
      throw new NiftiFormatException(file, "truncated header: the file holds " + hdr.length
          + " bytes, a NIfTI-1 header needs " + HEADER_BYTES);
    }
    ByteBuffer h = ByteBuffer.wrap(hdr).order(order);

    String magic = printable(hdr, 344, 4);
    if (hdr[344] == 'n' && hdr[345] == 'i' && hdr[346] == '1' && hdr[347] == 0) {
      throw new NiftiFormatException(file, "a header/image pair (.hdr + .img, magic \"ni1\"); only single-file "
          + ".nii or .nii.gz is read: convert it, e.g. with fslchfiletype or nibabel");
    }
    if (!(hdr[344] == 'n' && hdr[345] == '+' && hdr[346] == '1' && hdr[347] == 0)) {
      throw new NiftiFormatException(file, "not a NIfTI-1 file: magic \"" + magic + "\", expected \"n+1\\0\"");
    }

    int ndim = h.getShort(40);
    if (ndim < 1 || ndim > 7) {
      throw new NiftiFormatException(file, "dim[0] = " + ndim + ": the number of dimensions must be 1..7");
    }
    int[] dim = new int[8];
    for (int d = 1; d <= 7; d++) {
      dim[d] = h.getShort(40 + 2 * d);
    }
    for (int d = 1; d <= ndim; d++) {
      if (dim[d] <= 0) {
        throw new NiftiFormatException(file, "dim[" + d + "] = " + dim[d] + ": every size must be at least 1");
      }
    }
    int nx = dim[1];
    int ny = ndim >= 2 ? dim[2] : 1;
    int nz = ndim >= 3 ? dim[3] : 1;
    long volumes = 1;
    for (int d = 4; d <= ndim; d++) {
      volumes *= dim[d];
    }
    if (volumes > 1) {
      throw new NiftiFormatException(file, "a " + ndim + "-D series of " + volumes
          + " volumes; give one 3-D volume");
    }
    String dims = nx + "x" + ny + "x" + nz;
    long voxels = (long) nx * ny * nz;
    if (voxels > MAX_VOXELS) {
      throw new NiftiFormatException(file, "dims " + dims + " hold " + voxels + " voxels; volumes over "
          + MAX_VOXELS + " voxels (512 Mi) are refused");
    }

    int code = h.getShort(70);
    Datatype type = Datatype.of(code);
    if (type == null) {
      throw new NiftiFormatException(file, "datatype " + code + " (" + unsupportedName(code)
          + ") is not supported; supported: " + supportedList());
    }

    double[] pixdim = new double[8];
    for (int d = 0; d < 8; d++) {
      pixdim[d] = h.getFloat(76 + 4 * d);
    }
    float voxOffset = h.getFloat(108);
    if (!Float.isFinite(voxOffset) || voxOffset < 0) {
      throw new NiftiFormatException(file, "vox_offset " + voxOffset + " is not a byte offset");
    }
    long offset = Math.max(MIN_DATA_OFFSET, (long) voxOffset);
    double slope = h.getFloat(112);
    double inter = h.getFloat(116);
    if (!Double.isFinite(slope) || slope == 0) {
      slope = 1;
      inter = 0;
    } else if (!Double.isFinite(inter)) {
      inter = 0;
    }

    String source;
    double[][] affine;
    int qformCode = h.getShort(252);
    int sformCode = h.getShort(254);
    if (sformCode > 0) {
      source = "sform";
      affine = new double[4][4];
      for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 4; c++) {
          affine[r][c] = h.getFloat(280 + 16 * r + 4 * c);
        }
      }
      affine[3][3] = 1;
    } else if (qformCode > 0) {
      source = "qform";
      affine = quaternionAffine(h.getFloat(256), h.getFloat(260), h.getFloat(264), h.getFloat(268),
          h.getFloat(272), h.getFloat(276), pixdim);
    } else {
      source = "pixdim";
      affine = new double[4][4];
      for (int d = 0; d < 3; d++) {
        double p = pixdim[d + 1];
        affine[d][d] = Double.isFinite(p) && p != 0 ? p : 1;
      }
      affine[3][3] = 1;
    }
    double[][] inverse = invert(file, affine, source);

    skipTo(file, in, offset, dims, type);
    long need = voxels * type.bytes;
    float[] data = readData(file, in, need, (int) voxels, type, order, slope, inter, dims);
    checkFinite(file, data, nx, ny);
    double[] size = {pixdim[1], pixdim[2], pixdim[3]};
    return new NiftiVolume(file, nx, ny, nz, size, affine, inverse, source, data, type.label);
  }

  private static void skipTo(Path file, InputStream in, long offset, String dims, Datatype type) throws IOException {
    long toSkip = offset - HEADER_BYTES;
    byte[] scratch = new byte[8192];
    long skipped = 0;
    while (skipped < toSkip) {
      int n = in.readNBytes(scratch, 0, (int) Math.min(scratch.length, toSkip - skipped));
      if (n == 0) {
        throw new NiftiFormatException(file, "truncated: the file ends at byte " + (HEADER_BYTES + skipped)
            + ", before vox_offset " + offset + " where the voxel data of dims " + dims + " of " + type.label
            + " should start");
      }
      skipped += n;
    }
  }

  private static float[] readData(Path file, InputStream in, long need, int voxels, Datatype type, ByteOrder order,
      double slope, double inter, String dims) throws IOException {
    // Read into pieces first so that a truncated file costs only the bytes it holds, not the header's promise.
    List<byte[]> pieces = new ArrayList<>();
    long got = 0;
    while (got < need) {
      int len = (int) Math.min(need - got, CHUNK_BYTES);
      byte[] piece = in.readNBytes(len);
      pieces.add(piece);
      got += piece.length;
      if (piece.length < len) {
        break;
      }
    }
    if (got < need) {
      throw new NiftiFormatException(file, "truncated: holds " + got + " bytes of voxel data, the header's dims "
          + dims + " of " + type.label + " need " + need);
    }
    long extra = 0;
    byte[] scratch = new byte[8192];
    for (int n; (n = in.read(scratch)) > 0; ) {
      extra += n;
    }
    if (extra > 0) {
      throw new NiftiFormatException(file, "holds " + (need + extra) + " bytes of voxel data, the header's dims "
          + dims + " of " + type.label + " need " + need + " (" + extra + " bytes too many)");
    }
    float[] out = new float[voxels];
    int p = 0;
    for (byte[] piece : pieces) {
      ByteBuffer b = ByteBuffer.wrap(piece).order(order);
      int n = piece.length / type.bytes;
      switch (type) {
        case UINT8 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) ((piece[e] & 0xff) * slope + inter);
          }
        }
        case INT8 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) (piece[e] * slope + inter);
          }
        }
        case INT16 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) (b.getShort(2 * e) * slope + inter);
          }
        }
        case UINT16 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) ((b.getShort(2 * e) & 0xffff) * slope + inter);
          }
        }
        case INT32 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) (b.getInt(4 * e) * slope + inter);
          }
        }
        case UINT32 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) ((b.getInt(4 * e) & 0xffffffffL) * slope + inter);
          }
        }
        case FLOAT32 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) (b.getFloat(4 * e) * slope + inter);
          }
        }
        case FLOAT64 -> {
          for (int e = 0; e < n; e++) {
            out[p++] = (float) (b.getDouble(8 * e) * slope + inter);
          }
        }
      }
    }
    return out;
  }

  private static void checkFinite(Path file, float[] data, int nx, int ny) throws NiftiFormatException {
    long nan = 0;
    long inf = 0;
    int first = -1;
    for (int idx = 0; idx < data.length; idx++) {
      float v = data[idx];
      if (Float.isNaN(v)) {
        nan++;
      } else if (Float.isInfinite(v)) {
        inf++;
      } else {
        continue;
      }
      if (first < 0) {
        first = idx;
      }
    }
    if (first >= 0) {
      String what = nan > 0 && inf > 0 ? nan + " NaN and " + inf + " infinite"
          : nan > 0 ? nan + " NaN" : inf + " infinite";
      int i = first % nx;
      int j = (first / nx) % ny;
      int k = first / nx / ny;
      throw new NiftiFormatException(file, "holds " + what + " voxels (first at i,j,k = " + i + "," + j + "," + k
          + "); only finite values can be used");
    }
  }

  /**
   * The qform (method 2 of the standard), as nifti_quatern_to_mat44 in the reference C library: a = sqrt(1 - b^2 -
   * c^2 - d^2) (or 0 with b, c, d renormalised when that is not positive), rotation from (a, b, c, d), columns scaled
   * by pixdim[1..3] (non-positive ones count as 1), the third negated when qfac = pixdim[0] &lt; 0.
   */
  static double[][] quaternionAffine(double b, double c, double d, double qx, double qy, double qz,
      double[] pixdim) {
    double a = 1.0 - (b * b + c * c + d * d);
    if (a < 1e-7) {
      a = 1.0 / Math.sqrt(b * b + c * c + d * d);
      b *= a;
      c *= a;
      d *= a;
      a = 0;
    } else {
      a = Math.sqrt(a);
    }
    double xd = pixdim[1] > 0 ? pixdim[1] : 1;
    double yd = pixdim[2] > 0 ? pixdim[2] : 1;
    double zd = pixdim[3] > 0 ? pixdim[3] : 1;
    if (pixdim[0] < 0) {
      zd = -zd;
    }
    return new double[][] {
        {(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, qx},
        {2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, qy},
        {2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, qz},
        {0, 0, 0, 1}};
  }

  /** Rows 0..2 of the inverse of a 4x4 affine whose last row is 0 0 0 1; refuses a singular or non-finite one. */
  private static double[][] invert(Path file, double[][] m, String source) throws NiftiFormatException {
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        if (!Double.isFinite(m[r][c])) {
          throw new NiftiFormatException(file, "the " + source + " affine holds a non-finite value ("
              + m[r][c] + " in row " + r + ", column " + c + ")");
        }
      }
    }
    double a = m[0][0], b = m[0][1], c = m[0][2];
    double d = m[1][0], e = m[1][1], f = m[1][2];
    double g = m[2][0], h = m[2][1], k = m[2][2];
    double det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
    double scale = 1;
    for (int col = 0; col < 3; col++) {
      scale *= Math.sqrt(m[0][col] * m[0][col] + m[1][col] * m[1][col] + m[2][col] * m[2][col]);
    }
    if (scale == 0 || Math.abs(det) <= SINGULAR_TOLERANCE * scale) {
      throw new NiftiFormatException(file, "the " + source + " affine is singular (determinant "
          + String.format(Locale.ROOT, "%.3g", det) + " of its 3x3 part), so voxels have no world position");
    }
    double[][] r = {
        {(e * k - f * h) / det, (c * h - b * k) / det, (b * f - c * e) / det, 0},
        {(f * g - d * k) / det, (a * k - c * g) / det, (c * d - a * f) / det, 0},
        {(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det, 0}};
    for (int row = 0; row < 3; row++) {
      r[row][3] = -(r[row][0] * m[0][3] + r[row][1] * m[1][3] + r[row][2] * m[2][3]);
    }
    return r;
  }

  /**
   * Axis codes as nibabel's aff2axcodes: the nearest rotation to the column-normalised 3x3 part (polar
   * decomposition by SVD), then for each voxel axis in turn the world axis it moves along most, each world axis
   * used once.
   */
  static String axisCodes(double[][] affine) {
    double[][] rs = new double[3][3];
    for (int col = 0; col < 3; col++) {
      double norm = Math.sqrt(affine[0][col] * affine[0][col] + affine[1][col] * affine[1][col]
          + affine[2][col] * affine[2][col]);
      if (norm == 0) {
        norm = 1;
      }
      for (int row = 0; row < 3; row++) {
        rs[row][col] = affine[row][col] / norm;
      }
    }
    SingularValueDecomposition svd = new SingularValueDecomposition(new Array2DRowRealMatrix(rs, false));
    RealMatrix rot = svd.getU().multiply(svd.getVT());
    double[][] r = rot.getData();
    char[][] letters = {{'L', 'R'}, {'P', 'A'}, {'I', 'S'}};
    StringBuilder codes = new StringBuilder(3);
    for (int in = 0; in < 3; in++) {
      int best = 0;
      for (int out = 1; out < 3; out++) {
        if (Math.abs(r[out][in]) > Math.abs(r[best][in])) {
          best = out;
        }
      }
      codes.append(letters[best][r[best][in] < 0 ? 0 : 1]);
      for (int c = 0; c < 3; c++) {
        r[best][c] = 0;
      }
    }
    return codes.toString();
  }

  public int nx() {
    return nx;
  }

  public int ny() {
    return ny;
  }

  public int nz() {
    return nz;
  }

  /** pixdim[1..3] as stored in the header, mm. */
  public double[] voxelSizeMm() {
    return voxelSizeMm.clone();
  }

  /** 4x4 map from voxel (i, j, k, 1) to world millimetres; {@link #affineSource()} says where it came from. */
  public double[][] affine() {
    double[][] copy = new double[4][];
    for (int r = 0; r < 4; r++) {
      copy[r] = affine[r].clone();
    }
    return copy;
  }

  /** "sform", "qform" or "pixdim" (neither sform nor qform set: x = pixdim[1]*i etc., no offset). */
  public String affineSource() {
    return affineSource;
  }

  /** Which world direction each voxel axis points to, as nibabel's aff2axcodes: e.g. "RAS", "LAS", "LPI". */
  public String orientation() {
    return orientation;
  }

  /** The voxel value after scl_slope and scl_inter. */
  public float voxel(int i, int j, int k) {
    if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) {
      throw new IndexOutOfBoundsException("voxel " + i + "," + j + "," + k + " lies outside " + nx + "x" + ny + "x"
          + nz);
    }
    return data[i + nx * (j + ny * k)];
  }

  /** A copy of all voxel values, i fastest, then j, then k. */
  public float[] data() {
    return data.clone();
  }

  /** "uint8", "int8", "int16", "uint16", "int32", "uint32", "float32" or "float64": the type stored in the file. */
  public String datatypeName() {
    return datatypeName;
  }

  public Path file() {
    return file;
  }

  /** Continuous voxel coordinates (i, j, k) of a world point in mm, through the inverse affine. */
  public double[] worldToVoxel(double x, double y, double z) {
    double[] v = new double[3];
    for (int r = 0; r < 3; r++) {
      v[r] = inverse[r][0] * x + inverse[r][1] * y + inverse[r][2] * z + inverse[r][3];
    }
    return v;
  }

  /**
   * An axial slice at world z = {@code zMm}, sampled on a world grid whatever the voxel axes are: element [r][c]
   * is the value at world (x, y, z) = (xMinMm + c * stepMm, yMaxMm - r * stepMm, zMm). Column 0 is the most
   * negative world x and row 0 the most positive world y. In RAS world space (scanner or MNI: +x towards the
   * subject's right, +y anterior), column 0 is therefore the subject's <em>left</em> and row 0 anterior: the array
   * shown as it is, anterior at the top, is in neurological orientation (left on the left); mirror the columns for
   * radiological display.
   * Values are trilinear interpolations of the voxels through the inverse affine; points outside the volume give 0.
   */
  public float[][] axialSlice(double zMm, double xMinMm, double yMaxMm, double stepMm, int rows, int cols) {
    if (!(stepMm > 0) || Double.isInfinite(stepMm)) {
      throw new IllegalArgumentException("stepMm must be a positive number of millimetres, got " + stepMm);
    }
    if (rows <= 0 || cols <= 0) {
      throw new IllegalArgumentException("a slice needs at least one row and one column, got " + rows + "x" + cols);
    }
    float[][] out = new float[rows][cols];
    for (int r = 0; r < rows; r++) {
      double y = yMaxMm - r * stepMm;
      for (int c = 0; c < cols; c++) {
        double[] v = worldToVoxel(xMinMm + c * stepMm, y, zMm);
        out[r][c] = trilinear(v[0], v[1], v[2]);
      }
    }
    return out;
  }

  private float trilinear(double fi, double fj, double fk) {
    if (outside(fi, nx) || outside(fj, ny) || outside(fk, nz)) {
      return 0;
    }
    int i0 = base(fi, nx);
    int j0 = base(fj, ny);
    int k0 = base(fk, nz);
    double ti = weight(fi, i0);
    double tj = weight(fj, j0);
    double tk = weight(fk, k0);
    int i1 = Math.min(i0 + 1, nx - 1);
    int j1 = Math.min(j0 + 1, ny - 1);
    int k1 = Math.min(k0 + 1, nz - 1);
    double c00 = lerp(data[index(i0, j0, k0)], data[index(i1, j0, k0)], ti);
    double c10 = lerp(data[index(i0, j1, k0)], data[index(i1, j1, k0)], ti);
    double c01 = lerp(data[index(i0, j0, k1)], data[index(i1, j0, k1)], ti);
    double c11 = lerp(data[index(i0, j1, k1)], data[index(i1, j1, k1)], ti);
    return (float) lerp(lerp(c00, c10, tj), lerp(c01, c11, tj), tk);
  }

  private static boolean outside(double f, int n) {
    return !(f >= -EDGE_TOLERANCE && f <= n - 1 + EDGE_TOLERANCE);
  }

  /** The lower corner along one axis, kept so that it and the next voxel lie inside (a single slice: 0). */
  private static int base(double f, int n) {
    return n == 1 ? 0 : Math.min((int) Math.floor(Math.max(f, 0)), n - 2);
  }

  private static double weight(double f, int base) {
    return Math.min(1, Math.max(0, f - base));
  }

  private static double lerp(double a, double b, double t) {
    return a + (b - a) * t;
  }

  private int index(int i, int j, int k) {
    return i + nx * (j + ny * k);
  }

  @Override
  public String toString() {
    return "NiftiVolume[" + file + ", " + nx + "x" + ny + "x" + nz + " " + datatypeName + ", " + affineSource + " "
        + orientation + "]";
  }

  private static String unsupportedName(int code) {
    return switch (code) {
      case 0 -> "unknown";
      case 1 -> "binary";
      case 32 -> "complex64";
      case 128 -> "RGB24";
      case 1024 -> "int64";
      case 1280 -> "uint64";
      case 1536 -> "float128";
      case 1792 -> "complex128";
      case 2048 -> "complex256";
      case 2304 -> "RGBA32";
      default -> "not a NIfTI-1 datatype code";
    };
  }

  private static String supportedList() {
    StringBuilder sb = new StringBuilder();
    for (Datatype d : Datatype.values()) {
      sb.append(sb.length() == 0 ? "" : ", ").append(d.label).append(" (").append(d.code).append(')');
    }
    return sb.toString();
  }

  private static String printable(byte[] b, int off, int len) {
    StringBuilder sb = new StringBuilder();
    for (int i = off; i < off + len; i++) {
      int v = b[i] & 0xff;
      if (v == 0) {
        sb.append("\\0");
      } else if (v >= 0x20 && v < 0x7f && v != '"' && v != '\\') {
        sb.append((char) v);
      } else {
        sb.append(String.format(Locale.ROOT, "\\x%02x", v));
      }
    }
    return sb.toString();
  }
}
