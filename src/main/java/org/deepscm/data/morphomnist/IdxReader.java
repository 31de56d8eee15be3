package org.deepscm.data.morphomnist;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the MNIST container format) of unsigned bytes, gzipped or plain.
 *
 * <p>Header: two zero bytes, a type byte (0x08 = unsigned byte, the only type accepted here), the number
 * of dimensions, then one big-endian 32-bit size per dimension, then the data, row-major. IDX1 (labels)
 * has magic 0x00000801, IDX3 (images) 0x00000803. Gzip is detected from the first two bytes (0x1f 0x8b),
 * not from the file name. Every problem (bad magic, wrong type, wrong number of dimensions, negative or
 * huge sizes, truncated data, trailing bytes, a broken gzip stream) is an {@link IOException} whose
 * message names the file and the problem.
 */
public final class IdxReader {

    /** Magic number of a 1-dimensional unsigned-byte IDX file (labels). */
    public static final int MAGIC_IDX1_UBYTE = 0x00000801;
    /** Magic number of a 3-dimensional unsigned-byte IDX file (images). */
    public static final int MAGIC_IDX3_UBYTE = 0x00000803;

    /** Refuse anything larger than this many data bytes (a corrupt size field must not allocate GBs). */
    private static final long MAX_DATA_BYTES = 1L << 30;

    private IdxReader() {
    }

    /** Images of an IDX3 file: {@code count} images of {@code rows x cols} unsigned bytes, row-major. */
    public record Images(int count, int rows, int cols, byte[] data) {
        /** Pixel value 0..255 of image {@code i} at (row r, column c). */
        public int pixel(int i, int r, int c) {
            return data[(i * rows + r) * cols + c] & 0xff;
        }
    }

    /** Reads an IDX3 unsigned-byte file (magic 0x00000803). */
    public static Images readImages(Path file) throws IOException {
        Parsed p = read(file, MAGIC_IDX3_UBYTE);
        return new Images(p.dims[0], p.dims[1], p.dims[2], p.data);
    }

    /** Reads an IDX1 unsigned-byte file (magic 0x00000801); returns the raw bytes (read them with {@code & 0xff}). */
    public static byte[] readLabels(Path file) throws IOException {
        return read(file, MAGIC_IDX1_UBYTE).data;
    }

    private record Parsed(int[] dims, byte[] data) {
    }

    private static Parsed read(Path file, int expectedMagic) throws IOException {
        byte[] bytes;
        try {
            bytes = readAllMaybeGzipped(file);
        } catch (ZipException | java.io.EOFException e) {
            throw new IOException(file + ": corrupt or truncated gzip stream (" + e.getMessage() + ")", e);
        }
        if (bytes.length < 4) {
            throw new IOException(file + ": truncated: " + bytes.length + " bytes, too short for an IDX header");
        }
        int magic = readInt(bytes, 0);
        if (magic != expectedMagic) {
            throw new IOException(String.format("%s: bad magic number 0x%08x, expected 0x%08x (%s)", file, magic,
                    expectedMagic, describeMagic(expectedMagic)));
        }
        int ndim = expectedMagic & 0xff;
        int headerLen = 4 + 4 * ndim;
        if (bytes.length < headerLen) {
            throw new IOException(file + ": truncated: " + bytes.length + " bytes, header of " + ndim
                    + " dimensions needs " + headerLen);
        }
        int[] dims = new int[ndim];
        long total = 1;
        for (int d = 0; d < ndim; d++) {
            dims[d] = readInt(bytes, 4 + 4 * d);
            if (dims[d] < 0) {
                throw new IOException(file + ": dimension " + d + " has negative size " + dims[d]);
            }
            total *= dims[d];
            if (total > MAX_DATA_BYTES) {
                throw new IOException(file + ": sizes imply more than " + MAX_DATA_BYTES + " data bytes");
            }
        }
        long actual = bytes.length - headerLen;
        if (actual < total) {
            throw new IOException(file + ": truncated: header promises " + total + " data bytes ("
                    + dimsToString(dims) + "), file holds " + actual);
        }
        if (actual > total) {
            throw new IOException(file + ": " + (actual - total) + " unexpected trailing bytes after "
                    + total + " data bytes (" + dimsToString(dims) + ")");
        }
        byte[] data = new byte[(int) total];
        System.arraycopy(bytes, headerLen, data, 0, data.length);
        return new Parsed(dims, data);
    }

    private static byte[] readAllMaybeGzipped(Path file) throws IOException {
        byte[] raw = Files.readAllBytes(file);
        if (raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(new BufferedInputStream(new java.io.ByteArrayInputStream(raw)))) {
                ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
                in.transferTo(out);
                return out.toByteArray();
            }
        }
        return raw;
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    private static String describeMagic(int magic) {
        return magic == MAGIC_IDX1_UBYTE ? "IDX1 unsigned bytes, labels" : "IDX3 unsigned bytes, images";
    }

    private static String dimsToString(int[] dims) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : "x").append(dims[i]);
        }
        return sb.toString();
    }
}
